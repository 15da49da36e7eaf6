// The form itself: JSON Forms with the catalog schema, the transformed UI schema, live
// validation without code generation (./validate.ts) and German/English messages.
import type { ErrorObject } from "ajv";
import type { JsonFormsI18nState } from "@jsonforms/core";
import { JsonForms } from "@jsonforms/react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { useI18n } from "../i18n/i18n";
import { ajvErrorMessage } from "./errorMessages";
import { cells, ErrorsVisible, renderers } from "./renderers";
import { makeTranslator, toJsonForms } from "./uiTransform";
import { createRuleAjv, liveValidate } from "./validate";

export type FormViewProps = {
  schema: unknown;
  ui: unknown;
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

export function FormView({ schema, ui, data, onChange, showAllErrors = false, readonly = false }: FormViewProps) {
  const { lang } = useI18n();
  const ajv = useMemo(() => createRuleAjv(), []);
  const jsonSchema = useMemo(() => formSchema(schema), [schema]);
  const { uischema, translations } = useMemo(() => toJsonForms(ui, lang), [ui, lang]);
  // Controlled: JSON Forms re-applies its `data` prop whenever `additionalErrors` change,
  // so it must always get what it shows; validate that, not the last prop.
  const [current, setCurrent] = useState<unknown>(data);
  useEffect(() => setCurrent(data), [data]);
  const errors = useMemo(() => liveValidate(jsonSchema, current), [jsonSchema, current]);
  const i18n = useMemo<JsonFormsI18nState>(
    () => ({
      locale: lang,
      translate: makeTranslator(translations),
      translateError: (error) => ajvErrorMessage(error, lang),
    }),
    [lang, translations],
  );
  const handleChange = useCallback(
    ({ data: d }: { data: unknown }) => {
      setCurrent(d);
      onChange(d, liveValidate(jsonSchema, d));
    },
    [onChange, jsonSchema],
  );
  return (
    <ErrorsVisible show={showAllErrors}>
      <div className="jsonforms">
        <JsonForms
          schema={jsonSchema}
          uischema={uischema}
          data={current}
          renderers={renderers}
          cells={cells}
          ajv={ajv}
          i18n={i18n}
          readonly={readonly}
          validationMode="NoValidation"
          additionalErrors={errors}
          onChange={handleChange}
        />
      </div>
    </ErrorsVisible>
  );
}
