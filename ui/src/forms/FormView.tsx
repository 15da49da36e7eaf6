// The form itself: JSON Forms with the catalog schema, the transformed UI schema, live
// validation without code generation (./validate.ts) and German/English messages.
import type { ErrorObject } from "ajv";
import { Actions, type JsonFormsCore, type JsonFormsI18nState, type Middleware } from "@jsonforms/core";
import { JsonForms } from "@jsonforms/react";
import { useCallback, useMemo, useRef, useState } from "react";
import { useI18n } from "../i18n/i18n";
import { normalizeNfcDeep } from "./din91379";
import { ajvErrorMessage } from "./errorMessages";
import { cells, ErrorsVisible, renderers } from "./renderers";
import { makeTranslator, toJsonForms } from "./uiTransform";
import { createRuleAjv, liveValidate } from "./validate";

export type FormViewProps = {
  schema: unknown;
  ui: unknown;
  /** The initial data; afterwards JSON Forms owns the data and reports it by onChange. */
  data: unknown;
  /** Every state JSON Forms settles on, debounced by JSON Forms (10 ms): the data (also
   * the data it started with) and its errors. For live validation; a late call can carry
   * data older than the last edit, so it is no source of the data to keep. */
  onChange: (data: unknown, errors: ErrorObject[]) => void;
  /** Only the clerk's own edits, each right after it happened (a microtask later, in
   * order, the last one the newest), so a step change or lock cannot miss one. */
  onEdit?: (data: unknown) => void;
  showAllErrors?: boolean;
  readonly?: boolean;
};

/** `$id` is dropped: the form is validated on its own, never looked up by id. */
export function formSchema(schema: unknown): Record<string, unknown> {
  if (schema === null || typeof schema !== "object") return { type: "object" };
  const { $id: _id, ...rest } = schema as Record<string, unknown>;
  return rest;
}

/**
 * Validation inside JSON Forms' reducer: whenever the data or schema changes, the
 * core's `errors` are recomputed by the eval-free validator (validationMode
 * "NoValidation" keeps JSON Forms' AJV from compiling). Doing it here, not through the
 * `data`/`additionalErrors` props, means the data never round-trips through React props,
 * so a keystroke between JSON Forms' debounced onChange and the next render cannot be
 * overwritten by an older copy.
 *
 * It also keeps the data JSON Forms owns: JSON Forms answers every change of its `schema`,
 * `uischema` or `ajv` props (a language switch changes the UI schema's labels) with
 * UPDATE_CORE carrying the `data` prop — the data the form was opened with. Taken as is,
 * that reset everything typed since (and autosave then stored the reset form). After INIT
 * the data changes only through the clerk's edits (UPDATE_DATA), never through props.
 *
 * Every edit is stored in Unicode normalization form C (DIN 91379): text typed with
 * combining marks or pasted from a PDF (`e` + U+0302 + U+0303) becomes the composed
 * character (`ễ`) before it is validated, shown and saved.
 */
export const validatingMiddleware: Middleware = (state, action, defaultReducer) => {
  const kept =
    action.type === Actions.UPDATE_CORE && state.data !== undefined
      ? { ...action, data: state.data }
      : action.type === Actions.UPDATE_DATA
        ? { ...action, updater: (old: unknown) => normalizeNfcDeep(action.updater(old)) }
        : action;
  const next = defaultReducer(state, kept);
  if (next === state) return state;
  // The reducer resets `errors` (to [] in NoValidation) on some actions; recompute,
  // reusing the last result when data and schema are unchanged.
  const errors =
    next.data === state.data && next.schema === state.schema && state.errors !== undefined && validatedFor.get(state.errors) === next.data
      ? state.errors
      : liveValidate(next.schema, next.data);
  validatedFor.set(errors, next.data);
  return { ...next, errors } as JsonFormsCore;
};
const validatedFor = new WeakMap<object, unknown>();

/** The middleware of one form: validation as above, and the data each edit of the clerk
 * (UPDATE_DATA: typing, picking, adding or removing an item) produced is reported to
 * `report` a microtask later, not from inside React's state updater. React may run an
 * updater more than once (StrictMode, rebased updates); the reports keep their order, so
 * the last one is always the data of the last edit. */
export function editReportingMiddleware(report: (data: unknown) => void): Middleware {
  return (state, action, defaultReducer) => {
    const next = validatingMiddleware(state, action, defaultReducer);
    if (action.type === Actions.UPDATE_DATA && next.data !== state.data) {
      const data = next.data;
      queueMicrotask(() => report(data));
    }
    return next;
  };
}

export function FormView({ schema, ui, data, onChange, onEdit, showAllErrors = false, readonly = false }: FormViewProps) {
  const { lang } = useI18n();
  const ajv = useMemo(() => createRuleAjv(), []);
  const jsonSchema = useMemo(() => formSchema(schema), [schema]);
  const [initial] = useState(() => normalizeNfcDeep(data ?? {}));
  const { uischema, translations } = useMemo(() => toJsonForms(ui, lang), [ui, lang]);
  const i18n = useMemo<JsonFormsI18nState>(
    () => ({
      locale: lang,
      translate: makeTranslator(translations),
      translateError: (error) => ajvErrorMessage(error, lang),
    }),
    [lang, translations],
  );
  const onEditRef = useRef(onEdit);
  onEditRef.current = onEdit;
  const middleware = useMemo(() => editReportingMiddleware((d) => onEditRef.current?.(d)), []);
  const handleChange = useCallback(
    ({ data: d, errors }: { data: unknown; errors?: ErrorObject[] }) => onChange(d, errors ?? []),
    [onChange],
  );
  return (
    <ErrorsVisible show={showAllErrors}>
      <div className="jsonforms">
        <JsonForms
          schema={jsonSchema}
          uischema={uischema}
          data={initial}
          renderers={renderers}
          cells={cells}
          ajv={ajv}
          i18n={i18n}
          readonly={readonly}
          validationMode="NoValidation"
          middleware={middleware}
          onChange={handleChange}
        />
      </div>
    </ErrorsVisible>
  );
}
