// JSON Forms renderers: the vanilla renderer set (layouts, cells) plus four controls of
// our own, registered through JSON Forms' tester/renderer API, where the vanilla ones fall
// short for this app: a field wrapper with always-visible help, aria-describedby/
// aria-invalid and errors only after a field was touched; a radio group as fieldset with
// unique ids (vanilla uses the option value as id, which repeats across array items); a
// checkbox group for `multiselect`; and German/English "repeatable" arrays with
// per-item headings and add/remove buttons (vanilla's array texts are English-only).
// Two fill buttons of ./FillButtons.tsx ride on them: "Aus dem Antrag übernehmen" below
// the landlord confirmation's status, "Wie Person 1" in persons 2, 3, …
// Three cells of our own: dates typed as the app's language writes them (./DateCell.tsx),
// countries picked by name (./CountryCell.tsx) and a residence's municipality picked by
// name, postal code or regional key (./MunicipalityCell.tsx).
import {
  and,
  type ArrayControlProps,
  composePaths,
  type ControlElement,
  type ControlProps,
  createDefaultValue,
  findUISchema,
  isControl,
  isEnumControl,
  type JsonSchema,
  optionIs,
  or,
  type OwnPropsOfEnum,
  rankWith,
  schemaMatches,
  schemaTypeIs,
  type UISchemaElement,
} from "@jsonforms/core";
import {
  DispatchCell,
  JsonFormsDispatch,
  withJsonFormsArrayControlProps,
  withJsonFormsCellProps,
  withJsonFormsControlProps,
  withJsonFormsEnumProps,
  withJsonFormsMultiEnumProps,
} from "@jsonforms/react";
import { vanillaCells, vanillaRenderers } from "@jsonforms/vanilla-renderers";
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { useI18n } from "../i18n/i18n";
import { Icon } from "../components/Icon";
import { CountryCell } from "./CountryCell";
import { DateCell } from "./DateCell";
import { CopyFromFirst, TakeFromApplication } from "./FillButtons";
import { MunicipalityCell } from "./MunicipalityCell";
import { DATE_PATTERN, writeDate } from "./dates";
import { isPersonItemSchema } from "./prefill";

/** When true, every field shows its errors (after "Prüfen" / on the review step). */
export const ShowAllErrors = createContext(false);

function useShowErrors(): [boolean, () => void] {
  const all = useContext(ShowAllErrors);
  const [touched, setTouched] = useState(false);
  return [all || touched, () => setTouched(true)];
}

function RequiredMark({ required }: { required?: boolean }) {
  const { t } = useI18n();
  if (!required) return null;
  return <span className="req"> ({t("form.required")})</span>;
}

function Help({ id, text }: { id: string; text?: string }) {
  if (!text) return null;
  return (
    <p id={id} className="field-help">
      {text}
    </p>
  );
}

function FieldErrors({ id, errors, show }: { id: string; errors: string; show: boolean }) {
  const { t } = useI18n();
  if (!show || !errors) return null;
  return (
    <p id={id} className="field-error">
      <Icon name="warning" />
      <span className="visually-hidden">{t("form.errorPrefix")} </span>
      {errors}
    </p>
  );
}

const safeId = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");

/** A date field: the catalog's `date` / `past-date` formats or the `date` widget. */
const isDateSchema = (s: JsonSchema) => s.type === "string" && (s.format === "date" || s.format === "past-date");
const hasDateWidget = (u: UISchemaElement) => (u.options as { format?: string } | undefined)?.format === "date";
/** A country field: ISO 3166-1 alpha-2 codes (`country-code`), picked by name. */
const isCountrySchema = (s: JsonSchema) => s.type === "string" && s.format === "country-code";
/** A residence's municipality: its Amtlicher Regionalschlüssel (`ars`), picked by name. */
const isArsSchema = (s: JsonSchema) => s.type === "string" && s.format === "ars";

function FieldControl(props: ControlProps) {
  const { id, label, errors, required, visible, enabled, uischema, schema, path } = props;
  const { t, lang } = useI18n();
  const [show, touch] = useShowErrors();
  const base = safeId(id);
  const inputId = `${id}-input`;
  const descId = `${base}-desc`;
  const hintId = `${base}-hint`;
  const errId = `${base}-err`;
  // A cell may say more below its input (the municipality picker: where the case goes).
  const noteId = `${safeId(inputId)}-note`;
  const hasError = show && !!errors;
  // A country field is picked by name now: the catalog's help about two-letter codes
  // gives way to how the picker works. A date field says how to write a date.
  const description = isCountrySchema(schema) && props.description ? t("country.help") : props.description;
  const hint =
    isDateSchema(schema) || hasDateWidget(uischema)
      ? t("form.dateHint", { pattern: DATE_PATTERN[lang], example: writeDate(24, 12, 1950, lang) })
      : undefined;
  useEffect(() => {
    const input = document.getElementById(inputId);
    if (!input) return;
    const note = document.getElementById(noteId) ? noteId : "";
    const ids = [description ? descId : "", hint ? hintId : "", note, hasError ? errId : ""].filter(Boolean).join(" ");
    if (ids) input.setAttribute("aria-describedby", ids);
    else input.removeAttribute("aria-describedby");
    input.setAttribute("aria-invalid", hasError ? "true" : "false");
    if (required) input.setAttribute("aria-required", "true");
  });
  if (!visible) return null;
  const isCheckbox = schema.type === "boolean";
  return (
    <div
      className={`field${hasError ? " field--invalid" : ""}${isCheckbox ? " field--checkbox" : ""}`}
      data-testid={`field-${path}`}
      onBlur={touch}
    >
      <label htmlFor={inputId} className="field-label">
        {label}
        <RequiredMark required={required} />
      </label>
      <DispatchCell uischema={uischema} schema={schema} path={path} id={inputId} enabled={enabled} />
      <Help id={descId} text={description} />
      <Help id={hintId} text={hint} />
      <FieldErrors id={errId} errors={errors} show={show} />
    </div>
  );
}

function RadioControl(props: ControlProps & OwnPropsOfEnum) {
  const { id, label, description, errors, required, visible, enabled, options, data, path, handleChange } = props;
  const [show, touch] = useShowErrors();
  const base = safeId(id);
  if (!visible) return null;
  const hasError = show && !!errors;
  return (
    <fieldset
      className={`field radio-group${hasError ? " field--invalid" : ""}`}
      data-testid={`field-${path}`}
      aria-describedby={[description ? `${base}-desc` : "", hasError ? `${base}-err` : ""].filter(Boolean).join(" ") || undefined}
      onBlur={touch}
    >
      <legend className="field-label">
        {label}
        <RequiredMark required={required} />
      </legend>
      <div className="radio-options">
        {(options ?? []).map((o, i) => (
          <label key={String(o.value)} className="choice" htmlFor={`${base}-${i}`}>
            <input
              type="radio"
              id={`${base}-${i}`}
              name={base}
              value={String(o.value)}
              checked={data === o.value}
              disabled={!enabled}
              onChange={() => handleChange(path, o.value)}
            />
            <span>{o.label}</span>
          </label>
        ))}
      </div>
      <Help id={`${base}-desc`} text={description} />
      <FieldErrors id={`${base}-err`} errors={errors} show={show} />
    </fieldset>
  );
}

/** The Anmeldung's landlord confirmation status (`captured`/`missing`) with, once
 * captured, the button that takes what the application already says into the
 * confirmation's empty fields (the object the status belongs to). */
function LandlordStatusControl(props: ControlProps & OwnPropsOfEnum) {
  const parent = props.path.split(".").slice(0, -1).join(".");
  return (
    <>
      <RadioControl {...props} />
      {props.visible && props.data === "captured" ? <TakeFromApplication path={parent} enabled={props.enabled} /> : null}
    </>
  );
}

function MultiselectControl(props: ControlProps & OwnPropsOfEnum) {
  const { id, label, description, errors, required, visible, enabled, options, data, path, handleChange } = props;
  const [show, touch] = useShowErrors();
  const base = safeId(id);
  if (!visible) return null;
  const selected: unknown[] = Array.isArray(data) ? data : [];
  const toggle = (v: unknown, on: boolean) => {
    const next = on ? [...selected, v] : selected.filter((x) => x !== v);
    // Keep the catalog's order; an empty selection removes the field.
    const ordered = (options ?? []).map((o) => o.value).filter((x) => next.includes(x));
    handleChange(path, ordered.length ? ordered : undefined);
  };
  const hasError = show && !!errors;
  return (
    <fieldset className={`field checkbox-group${hasError ? " field--invalid" : ""}`} data-testid={`field-${path}`} onBlur={touch}>
      <legend className="field-label">
        {label}
        <RequiredMark required={required} />
      </legend>
      <div className="checkbox-options">
        {(options ?? []).map((o, i) => (
          <label key={String(o.value)} className="choice" htmlFor={`${base}-${i}`}>
            <input
              type="checkbox"
              id={`${base}-${i}`}
              checked={selected.includes(o.value)}
              disabled={!enabled}
              onChange={(e) => toggle(o.value, e.target.checked)}
            />
            <span>{o.label}</span>
          </label>
        ))}
      </div>
      <Help id={`${base}-desc`} text={description} />
      <FieldErrors id={`${base}-err`} errors={errors} show={show} />
    </fieldset>
  );
}

function RepeatableControl(props: ArrayControlProps & { description?: string }) {
  const { t } = useI18n();
  const {
    id, label, description, errors, visible, enabled, data, path, schema, rootSchema, uischema, uischemas,
    renderers, cells, addItem, removeItems, arraySchema, required,
  } = props as ArrayControlProps & { id: string; description?: string; data: unknown };
  const items: unknown[] = Array.isArray(data) ? data : [];
  const [show] = useShowErrors();
  const listRef = useRef<HTMLDivElement>(null);
  const focusNew = useRef<number | null>(null);
  useEffect(() => {
    if (focusNew.current === null) return;
    // Only this list's own items: a person's nationalities are items too, nested deeper.
    const item = listRef.current?.querySelectorAll<HTMLElement>(":scope > .repeat-item")[focusNew.current];
    focusNew.current = null;
    item?.querySelector<HTMLElement>("input, select, textarea")?.focus();
  });
  if (!visible) return null;
  const base = safeId(id);
  const max = (arraySchema as JsonSchema | undefined)?.maxItems;
  const isObject = schema.type === "object" || !!schema.properties;
  const detail: UISchemaElement | undefined = isObject
    ? findUISchema(uischemas ?? [], schema, (uischema as ControlElement).scope, path, undefined, uischema as ControlElement, rootSchema)
    : undefined;
  const i18nKey = (uischema as ControlElement & { i18n?: string }).i18n;
  const help = isCountrySchema(schema) && description ? t("country.helpList") : description;
  const itemLabel = (i: number) => `${label} ${i + 1}`;
  // Persons 2, 3, … can take what families share from person 1.
  const copyFromFirst = isObject && isPersonItemSchema(schema);
  return (
    <fieldset className="field repeatable" data-testid={`field-${path}`}>
      <legend className="field-label">
        {label}
        <RequiredMark required={required} />
      </legend>
      {help ? <p className="field-help">{help}</p> : null}
      <FieldErrors id={`${base}-err`} errors={errors} show={show} />
      <div ref={listRef}>
        {items.map((_, i) => {
          const childPath = composePaths(path, String(i));
          const itemUi: UISchemaElement =
            detail ??
            ({ type: "Control", scope: "#", label: itemLabel(i), i18n: i18nKey ? `${i18nKey}.item` : undefined } as unknown as UISchemaElement);
          return (
            <div key={childPath} className={isObject ? "repeat-item repeat-item--object" : "repeat-item"}>
              {isObject ? <h2 className="repeat-heading">{itemLabel(i)}</h2> : null}
              {copyFromFirst && i > 0 ? <CopyFromFirst arrayPath={path} index={i} enabled={enabled} /> : null}
              <JsonFormsDispatch schema={schema} uischema={itemUi} path={childPath} renderers={renderers} cells={cells} enabled={enabled} />
              <button
                type="button"
                className="btn btn--secondary btn--small"
                disabled={!enabled}
                data-testid={`remove-${path}-${i}`}
                onClick={removeItems?.(path, [i])}
              >
                {t("form.remove", { item: itemLabel(i) })}
              </button>
            </div>
          );
        })}
      </div>
      <button
        type="button"
        className="btn btn--secondary"
        disabled={!enabled || (max !== undefined && items.length >= max)}
        data-testid={`add-${path}`}
        onClick={() => {
          focusNew.current = items.length;
          addItem(path, isObject ? {} : createDefaultValue(schema, rootSchema))();
        }}
      >
        {t("form.add", { label })}
      </button>
    </fieldset>
  );
}

const isArrayControl = and(isControl, schemaTypeIs("array"));
const isMultiselect = and(isControl, optionIs("widget", "multiselect"));
const isRadio = and(isEnumControl, or(optionIs("format", "radio"), optionIs("widget", "radio")));
const LANDLORD_STATUS = "#/properties/landlord_confirmation/properties/status";
const isLandlordStatus = and(isRadio, (u) => (u as ControlElement).scope === LANDLORD_STATUS);

export const renderers = [
  ...vanillaRenderers,
  { tester: rankWith(2, isControl), renderer: withJsonFormsControlProps(FieldControl) },
  { tester: rankWith(20, isRadio), renderer: withJsonFormsEnumProps(RadioControl) },
  { tester: rankWith(21, isLandlordStatus), renderer: withJsonFormsEnumProps(LandlordStatusControl) },
  { tester: rankWith(30, isMultiselect), renderer: withJsonFormsMultiEnumProps(MultiselectControl) },
  { tester: rankWith(25, isArrayControl), renderer: withJsonFormsArrayControlProps(RepeatableControl) },
];

const isDateField = and(isControl, or(schemaMatches(isDateSchema), hasDateWidget));
const isCountryField = and(isControl, schemaMatches(isCountrySchema));
const isArsField = and(isControl, schemaMatches(isArsSchema));

export const cells = [
  ...vanillaCells,
  { tester: rankWith(5, isDateField), cell: withJsonFormsCellProps(DateCell) },
  { tester: rankWith(5, isCountryField), cell: withJsonFormsCellProps(CountryCell) },
  { tester: rankWith(5, isArsField), cell: withJsonFormsCellProps(MunicipalityCell) },
];

export function ErrorsVisible({ show, children }: { show: boolean; children: ReactNode }) {
  return <ShowAllErrors.Provider value={show}>{children}</ShowAllErrors.Provider>;
}
