// AJV for JSON Forms' live validation. The catalog declares JSON Schema 2020-12, so this
// is AJV's 2020-12 class with the options JSON Forms' createAjv uses (allErrors, verbose,
// strict: false so unknown x-* keywords never break compilation, addUsedSchema: false),
// the standard formats (ajv-formats, as createAjv adds them), the catalog's custom formats
// and its two custom keywords. The Rust `check_draft` stays the authoritative validation.
import Ajv2020, { type ErrorObject } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { ageOn, CUSTOM_FORMATS, todayIso } from "./formats";

type KeywordCtx = { instancePath: string };

type MinorRequires = { birth_date: string; age: number; required: string[] };
type MinAge = { birth_date: string; age: number };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function createFormAjv(today: () => string = () => todayIso()): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    verbose: true,
    strict: false,
    addUsedSchema: false,
  });
  addFormats(ajv);
  for (const [name, validate] of Object.entries(CUSTOM_FORMATS)) {
    ajv.addFormat(name, { type: "string", validate });
  }
  // past-date must use the injectable "today" (tests); replace the default registration.
  ajv.addFormat("past-date", {
    type: "string",
    validate: (s: string) => CUSTOM_FORMATS["past-date"](s) && s <= today(),
  });

  const minorRequires = function validate(
    schema: MinorRequires,
    data: unknown,
    _parent?: unknown,
    ctx?: KeywordCtx,
  ): boolean {
    if (!isRecord(data)) return true;
    const birth = data[schema.birth_date];
    if (typeof birth !== "string") return true;
    const age = ageOn(birth, today());
    if (age === null || age >= schema.age) return true;
    const missing = schema.required.filter((p) => data[p] === undefined || data[p] === null);
    if (missing.length === 0) return true;
    // Reported as `required` so JSON Forms shows it at the missing property's control.
    (validate as unknown as { errors: Partial<ErrorObject>[] }).errors = missing.map((p) => ({
      keyword: "required",
      instancePath: ctx?.instancePath ?? "",
      params: { missingProperty: p, minor: true, age: schema.age },
      message: `required for persons under ${schema.age}`,
    }));
    return false;
  };
  ajv.addKeyword({ keyword: "x-minor-requires", type: "object", errors: true, validate: minorRequires });

  const minAge = function validate(
    schema: MinAge,
    data: unknown,
    _parent?: unknown,
    ctx?: KeywordCtx,
  ): boolean {
    if (!isRecord(data)) return true;
    const birth = data[schema.birth_date];
    if (typeof birth !== "string") return true;
    const age = ageOn(birth, today());
    if (age === null || age >= schema.age) return true;
    // Reported at the birth date field.
    (validate as unknown as { errors: Partial<ErrorObject>[] }).errors = [
      {
        keyword: "x-min-age",
        instancePath: `${ctx?.instancePath ?? ""}/${schema.birth_date}`,
        params: { age: schema.age },
        message: `must be at least ${schema.age} years old`,
      },
    ];
    return false;
  };
  ajv.addKeyword({ keyword: "x-min-age", type: "object", errors: true, validate: minAge });
  return ajv;
}

/** Removes `$id` (JSON Forms compiles one schema per form; with addUsedSchema false a
 * repeated `$id` is harmless, but keys must never clash between catalog versions). */
export function formSchema(schema: unknown): Record<string, unknown> {
  if (!isRecord(schema)) return { type: "object" };
  const { $id: _id, ...rest } = schema;
  return rest;
}
