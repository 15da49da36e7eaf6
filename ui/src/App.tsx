import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { api, LOCKED_LOCALLY, toAppError } from "./api/commands";
import { onConnectivity, onLocked, onSync, subscribe } from "./api/events";
import type { AppError, AppStatus, ConnectivityDto, FinalizedDto, FormDto, InitResult, ServiceDto } from "./api/types";
import { ErrorBox } from "./components/ErrorBox";
import { Icon } from "./components/Icon";
import { ConnectivityIndicator, phaseText, syncText } from "./components/Status";
import { describeError } from "./errors/describeError";
import { ServicesContext } from "./lib/catalogContext";
import { useI18n } from "./i18n/i18n";
import { initialSync, syncReducer } from "./lib/syncProgress";
import { useIdleTouch } from "./lib/useIdleTouch";
import { Home } from "./screens/Home";
import { Queue, RecordDetail } from "./screens/Queue";
import { Receipt } from "./screens/Receipt";
import { Services } from "./screens/Services";
import { AddClerks, Enrol, FirstRun, RecoverySecret } from "./screens/Setup";
import { Unlock } from "./screens/Unlock";
import { flushOpenDrafts } from "./screens/wizard/useAutosave";
import { Wizard } from "./screens/wizard/Wizard";

type View =
  | { name: "home" }
  | { name: "services" }
  | { name: "draft"; draftId: string }
  | { name: "receipt"; result: FinalizedDto; form: FormDto }
  | { name: "queue" }
  | { name: "record"; recordId: string };

/** Which top-level screen the status asks for. */
export function stageOf(status: AppStatus | null, init: InitResult | null, setupDone: boolean) {
  if (!status) return "loading" as const;
  if (init) return "secret" as const;
  if (!status.initialized) return "first-run" as const;
  // Enrolment is known only while unlocked (it lives in the encrypted store): any
  // session of a kit that is not enrolled yet enrols first.
  if (status.unlocked && !status.enrolled) return "enrol" as const;
  if (status.unlocked && status.unlocked.clerk === null) {
    // IT's set-up session (recovery secret).
    if (!setupDone || status.clerks.length === 0) return "clerks" as const;
    return "unlock" as const;
  }
  if (status.unlocked?.clerk) return "work" as const;
  return "unlock" as const;
}

export function App() {
  const { t, lang, setLang } = useI18n();
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [fatal, setFatal] = useState<AppError | null>(null);
  const [init, setInit] = useState<InitResult | null>(null);
  const [setupDone, setSetupDone] = useState(false);
  const [view, setView] = useState<View>({ name: "home" });
  const [conn, setConn] = useState<ConnectivityDto | null>(null);
  const [sync, dispatchSync] = useReducer(syncReducer, initialSync);
  const [refreshKey, setRefreshKey] = useState(0);
  const [announcement, setAnnouncement] = useState("");
  const mainRef = useRef<HTMLElement>(null);
  // An announcement is said once, in the language of its moment; after a language switch
  // it must not stay behind in the other language.
  useEffect(() => setAnnouncement(""), [lang]);

  const refresh = useCallback(async () => {
    try {
      setStatus(await api.appStatus());
      setFatal(null);
    } catch (e) {
      setFatal(toAppError(e));
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  // What the probes found before this page was loaded (a reload keeps the app
  // running); events keep it current from here on.
  const unlocked = !!status?.unlocked;
  useEffect(() => {
    if (!unlocked) return;
    api
      .queueStatus()
      .then((q) => setConn((now) => now ?? q.connectivity))
      .catch(() => undefined);
  }, [unlocked]);

  useEffect(
    () =>
      subscribe(
        onConnectivity((c) => {
          setConn(c);
          // "Sync now" while offline: the probe's answer ends the request's spinner.
          if (!c.online) dispatchSync({ kind: "offline", next_attempt_at: c.next_attempt_at, reason: c.last_error ?? "" });
        }),
      ),
    [],
  );
  useEffect(
    () =>
      subscribe(
        onSync((e) => {
          dispatchSync(e);
          if (e.kind === "finished" || e.kind === "case_status" || e.kind === "rejected") setRefreshKey((k) => k + 1);
        }),
      ),
    [],
  );
  useEffect(
    () =>
      subscribe(
        onLocked(() => {
          setStatus((s) => (s ? { ...s, unlocked: null } : s));
          void refresh();
        }),
      ),
    [refresh],
  );

  useEffect(() => {
    const onLockedLocally = () => {
      setStatus((s) => (s ? { ...s, unlocked: null } : s));
      void refresh();
    };
    window.addEventListener(LOCKED_LOCALLY, onLockedLocally);
    return () => window.removeEventListener(LOCKED_LOCALLY, onLockedLocally);
  }, [refresh]);

  const stage = stageOf(status, init, setupDone);
  // Tells the app once that the first screen is up (the start-up benchmark waits for it).
  const readySent = useRef(false);
  useEffect(() => {
    if (stage === "loading" || readySent.current) return;
    readySent.current = true;
    api.uiReady().catch(() => undefined);
  }, [stage]);
  const [services, setServices] = useState<ServiceDto[]>([]);
  useEffect(() => {
    if (stage !== "work") return;
    api.services().then(setServices, () => setServices([]));
  }, [stage, status?.catalog_version]);
  useIdleTouch(stage === "work", api.touch);

  // Sync progress is announced politely (phase changes, outcome), not every byte.
  const syncAnnouncement = sync.running ? phaseText(sync.phase, t) : syncText(sync, t, lang);

  const go = (v: View) => {
    setView(v);
    requestAnimationFrame(() => mainRef.current?.querySelector<HTMLElement>("h1")?.focus());
  };

  const lock = async () => {
    // What the clerk typed last is saved before the store closes.
    await flushOpenDrafts();
    try {
      setStatus(await api.lock());
    } catch {
      await refresh();
    }
  };

  const startSync = async () => {
    dispatchSync({ kind: "requested" });
    try {
      await api.syncNow();
    } catch (e) {
      const err = toAppError(e);
      const said = describeError(err, t, { lang });
      dispatchSync({ kind: "request_failed", message: said.message, detail: said.detail });
    }
  };

  const newDraft = async (s: ServiceDto) => {
    try {
      const id = await api.createDraft(s.id, {});
      go({ name: "draft", draftId: id });
    } catch (e) {
      setFatal(toAppError(e));
    }
  };

  let content: React.ReactNode;
  switch (stage) {
    case "loading":
      content = fatal ? null : <p role="status">{t("app.loading")}</p>;
      break;
    case "first-run":
      content = <FirstRun onInitialized={setInit} />;
      break;
    case "secret":
      content = (
        <RecoverySecret
          init={init!}
          onConfirmed={() => {
            setInit(null);
            void refresh();
          }}
        />
      );
      break;
    case "enrol":
      content = <Enrol onEnrolled={setStatus} />;
      break;
    case "clerks":
      content = (
        <AddClerks
          clerks={status!.clerks}
          tpm={status!.tpm}
          onDone={async () => {
            setSetupDone(true);
            try {
              setStatus(await api.lock());
            } catch {
              await refresh();
            }
          }}
        />
      );
      break;
    case "unlock":
      content = (
        <Unlock
          status={status!}
          onUnlocked={(s) => {
            setStatus(s);
            if (s.unlocked && s.unlocked.clerk === null) setSetupDone(false);
          }}
        />
      );
      break;
    case "work":
      switch (view.name) {
        case "home":
          content = (
            <Home
              sync={sync}
              refreshKey={refreshKey}
              onSync={() => void startSync()}
              onNew={() => go({ name: "services" })}
              onResume={(id) => go({ name: "draft", draftId: id })}
              onQueue={() => go({ name: "queue" })}
              onRecord={(id) => go({ name: "record", recordId: id })}
            />
          );
          break;
        case "services":
          content = <Services onPick={(s) => void newDraft(s)} onBack={() => go({ name: "home" })} />;
          break;
        case "draft":
          content = (
            <Wizard
              key={view.draftId}
              draftId={view.draftId}
              announce={setAnnouncement}
              onExit={() => go({ name: "home" })}
              onFinalized={(result, form) => {
                setRefreshKey((k) => k + 1);
                go({ name: "receipt", result, form });
              }}
            />
          );
          break;
        case "receipt":
          content = (
            <Receipt
              result={view.result}
              form={view.form}
              onNext={() => go({ name: "services" })}
              onHome={() => go({ name: "home" })}
            />
          );
          break;
        case "queue":
          content = <Queue refreshKey={refreshKey} onOpen={(id) => go({ name: "record", recordId: id })} onBack={() => go({ name: "home" })} />;
          break;
        case "record":
          content = <RecordDetail recordId={view.recordId} onBack={() => go({ name: "queue" })} announce={setAnnouncement} />;
          break;
      }
      break;
  }

  return (
    <>
      <a className="skip-link no-print" href="#main">{t("app.skip")}</a>
      <header className="app-header no-print">
        <span className="brand">Fieldkit</span>
        {stage === "work" ? (
          <nav aria-label={t("nav.main")} className="main-nav">
            <button type="button" className="link" data-testid="nav-home" onClick={() => go({ name: "home" })}>{t("header.home")}</button>
            <button type="button" className="link" data-testid="nav-queue" onClick={() => go({ name: "queue" })}>{t("header.queue")}</button>
          </nav>
        ) : null}
        <div className="header-right">
          {stage === "work" && status?.unlocked?.clerk ? <span className="small">{t("header.clerk", { name: status.unlocked.clerk.name })}</span> : null}
          <button
            type="button"
            className="btn btn--secondary btn--small"
            // Named by what it shows, in that language ("English" read in English): a
            // name that does not contain the visible word fails voice control.
            lang={lang === "de" ? "en" : "de"}
            data-testid="lang-switch"
            onClick={() => setLang(lang === "de" ? "en" : "de")}
          >
            {t("lang.switch")}
          </button>
          {stage === "work" ? (
            <button type="button" className="btn btn--secondary btn--small" data-testid="lock" onClick={() => void lock()}>
              <Icon name="lock" />
              {t("header.lock")}
            </button>
          ) : null}
        </div>
        {/* A line of its own: the state changes every few seconds, and sharing the
            buttons' line made them jump between lines under the clerk's pointer. */}
        <div className="header-status">
          <ConnectivityIndicator conn={conn} />
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        <ErrorBox error={fatal} testId="fatal-error" />
        <ServicesContext.Provider value={services}>{content}</ServicesContext.Provider>
      </main>
      <div className="visually-hidden" role="status" aria-live="polite" data-testid="live-region">
        {syncAnnouncement}
        {announcement ? ` ${announcement}` : ""}
      </div>
    </>
  );
}
