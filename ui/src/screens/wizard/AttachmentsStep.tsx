import { useState } from "react";
import { api, toAppError } from "../../api/commands";
import type { AppError, AttachmentDto, AttachmentSpecDto } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { FileDrop } from "../../components/FileDrop";
import { Icon } from "../../components/Icon";
import { DATA_MARK, formatBytes, pick, useI18n, withData } from "../../i18n/i18n";
import { acceptAttr, attachmentName, checkFile, mediaTypeOf, rememberName, typeName } from "../../lib/attachments";

export function AttachmentsStep({
  draftId,
  specs,
  attachments,
  setAttachments,
  announce,
}: {
  draftId: string;
  specs: AttachmentSpecDto[];
  attachments: AttachmentDto[];
  setAttachments: (f: (a: AttachmentDto[]) => AttachmentDto[]) => void;
  announce: (msg: string) => void;
}) {
  return (
    <div className="attachments">
      {specs.map((s) => (
        <AttachmentSpec key={s.id} draftId={draftId} spec={s} attached={attachments.filter((a) => a.spec_id === s.id)} setAttachments={setAttachments} announce={announce} />
      ))}
    </div>
  );
}

function AttachmentSpec({
  draftId,
  spec,
  attached,
  setAttachments,
  announce,
}: {
  draftId: string;
  spec: AttachmentSpecDto;
  attached: AttachmentDto[];
  setAttachments: (f: (a: AttachmentDto[]) => AttachmentDto[]) => void;
  announce: (msg: string) => void;
}) {
  const { t, lang } = useI18n();
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [slow, setSlow] = useState(false);
  const types = spec.media_types.map(typeName).join(", ");
  const max = formatBytes(spec.max_bytes, lang);

  const add = async (files: File[]) => {
    setProblem(null);
    setError(null);
    for (const f of files) {
      const p = checkFile(f, spec);
      if (p) {
        setProblem(
          p.kind === "type"
            ? t("att.wrongType", { name: f.name, got: typeName(p.got), allowed: types })
            : p.kind === "size"
              ? t("att.tooLarge", { name: f.name, size: formatBytes(p.size, lang), max })
              : t("att.empty", { name: f.name }),
        );
        return;
      }
    }
    for (const f of files) {
      setBusy(f.name);
      const timer = setTimeout(() => setSlow(true), 1000);
      try {
        const typed = f.type ? f : new Blob([f], { type: mediaTypeOf(f) });
        const a = await api.attachFile(draftId, spec.id, typed, f.name);
        rememberName(a.id, f.name);
        setAttachments((list) => [...list, a]);
        announce(t("att.added", { name: f.name }));
      } catch (e) {
        setError(toAppError(e));
      } finally {
        clearTimeout(timer);
        setSlow(false);
        setBusy(null);
      }
    }
  };

  const remove = async (a: AttachmentDto) => {
    setError(null);
    try {
      await api.detach(draftId, a.id);
      setAttachments((list) => list.filter((x) => x.id !== a.id));
      announce(t("att.removed", { name: attachmentName(a) }));
    } catch (e) {
      setError(toAppError(e));
    }
  };

  const helpId = `att-help-${spec.id}`;
  return (
    <section className="card attachment-spec" data-testid={`attachment-spec-${spec.id}`} aria-labelledby={`att-h-${spec.id}`}>
      <h2 id={`att-h-${spec.id}`}>
        {pick(spec.label, lang)}{" "}
        <span className={spec.required ? "tag tag--required" : "tag"}>({spec.required ? t("att.required") : t("att.optional")})</span>
      </h2>
      <p id={helpId} className="field-help">
        {spec.help ? `${pick(spec.help, lang)} ` : ""}
        {t("att.intro", { types, max })}
      </p>
      {attached.length === 0 ? (
        <p className="small">{t("att.none")}</p>
      ) : (
        <ul className="list" data-testid={`attached-${spec.id}`}>
          {attached.map((a) => (
            <li key={a.id}>
              <span>
                <Icon name="paperclip" />
                <span lang="">{attachmentName(a)}</span> ({formatBytes(a.size, lang)})
              </span>
              <button type="button" className="btn btn--secondary btn--small" data-testid={`detach-${a.id}`} onClick={() => void remove(a)}>
                {withData(t("att.remove", { name: DATA_MARK }), attachmentName(a))}
              </button>
            </li>
          ))}
        </ul>
      )}
      <FileDrop
        testId={`attach-${spec.id}`}
        accept={acceptAttr(spec.media_types)}
        chooseLabel={`${t("att.choose")}: ${pick(spec.label, lang)}`}
        dropLabel={t("att.drop")}
        disabled={busy !== null}
        describedBy={helpId}
        onFiles={(f) => void add(f)}
      />
      {busy && slow ? (
        <p role="status" className="busy" data-testid={`attach-busy-${spec.id}`}>
          <span className="spinner" aria-hidden="true" /> {t("att.uploading", { name: busy })}
        </p>
      ) : null}
      {problem ? (
        <p className="field-error" role="alert" data-testid={`attach-problem-${spec.id}`}>
          <Icon name="warning" />
          {problem}
        </p>
      ) : null}
      <ErrorBox error={error} />
    </section>
  );
}
