// The form itself: JSON Forms with the catalog schema, the transformed UI schema, live
// validation without code generation (./validate.ts) and German/English messages.
import type { ErrorObject } from "ajv";
import type { JsonFormsCore, JsonFormsI18nState, Middleware } from "@jsonforms/core";
import { JsonForms } from "@jsonforms/react";
import { useCallback, useMemo, useState } from "react";
import { useI18n } from "../i18n/i18n";
import { ajvErrorMessage } from "./errorMessages";
import { cells, ErrorsVisible, renderers } from "./renderers";
import { makeTranslator, toJsonForms } from "./uiTransform";
import { createRuleAjv, liveValidate } from "./validate";

export type FormViewProps = {
  schema: unknown;
  ui: unknown;
  /** The initial data; afterwards JSON Forms owns the data and reports it by onChange. */
  data: unknown;
  onChange: (data: unknown, errors: ErrorObject[]) => void;
  showAllErrors?: boolean;
  readonly?: boolean;
};

/** `$id` is dropped: the form is validated on its own, never looked up by id. */
function formSchema(schema: unknown): Record<string, unknown> {
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
 */
export const validatingMiddleware: Middleware = (state, action, defaultReducer) => {
  const next = defaultReducer(state, action);
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

export function FormView({ schema, ui, data, onChange, showAllErrors = false, readonly = false }: FormViewProps) {
  const { lang } = useI18n();
  const ajv = useMemo(() => createRuleAjv(), []);
  const jsonSchema = useMemo(() => formSchema(schema), [schema]);
  const [initial] = useState(() => data ?? {});
  const { uischema, translations } = useMemo(() => toJsonForms(ui, lang), [ui, lang]);
  const i18n = useMemo<JsonFormsI18nState>(
    () => ({
      locale: lang,
      translate: makeTranslator(translations),
      translateError: (error) => ajvErrorMessage(error, lang),
    }),
    [lang, translations],
  );
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
          middleware={validatingMiddleware}
          onChange={handleChange}
        />
      </div>
    </ErrorsVisible>
  );
}
