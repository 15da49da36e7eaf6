// The form itself: JSON Forms with the catalog schema, the transformed UI schema,
// AJV with the catalog's formats and keywords, and German/English messages.
import type { ErrorObject } from "ajv";
import type { JsonFormsI18nState } from "@jsonforms/core";
import { JsonForms } from "@jsonforms/react";
import { useMemo } from "react";
import { useI18n } from "../i18n/i18n";
import { createFormAjv, formSchema } from "./ajv";
import { ajvErrorMessage } from "./errorMessages";
import { cells, ErrorsVisible, renderers } from "./renderers";
import { makeTranslator, toJsonForms } from "./uiTransform";

export type FormViewProps = {
  schema: unknown;
  ui: unknown;
  data: unknown;
  onChange: (data: unknown, errors: ErrorObject[]) => void;
  showAllErrors?: boolean;
  readonly?: boolean;
};

export function FormView({ schema, ui, data, onChange, showAllErrors = false, readonly = false }: FormViewProps) {
  const { lang } = useI18n();
  const ajv = useMemo(() => createFormAjv(), []);
  const jsonSchema = useMemo(() => formSchema(schema), [schema]);
  const { uischema, translations } = useMemo(() => toJsonForms(ui, lang), [ui, lang]);
  const i18n = useMemo<JsonFormsI18nState>(
    () => ({
      locale: lang,
      translate: makeTranslator(translations),
      translateError: (error) => ajvErrorMessage(error, lang),
    }),
    [lang, translations],
  );
  return (
    <ErrorsVisible show={showAllErrors}>
      <div className="jsonforms">
        <JsonForms
          schema={jsonSchema}
          uischema={uischema}
          data={data}
          renderers={renderers}
          cells={cells}
          ajv={ajv}
          i18n={i18n}
          readonly={readonly}
          validationMode="ValidateAndShow"
          onChange={({ data: d, errors }) => onChange(d, (errors ?? []) as ErrorObject[])}
        />
      </div>
    </ErrorsVisible>
  );
}
