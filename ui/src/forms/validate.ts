// Live validation for JSON Forms without code generation. AJV compiles schemas with
// `new Function`, which a CSP without 'unsafe-eval' forbids, so the form uses
// @cfworker/json-schema (an interpreting JSON Schema 2020-12 validator) with the
// catalog's custom formats, adds the two custom keywords, and hands JSON Forms the
// errors in AJV's shape (set by FormView's reducer middleware, validationMode
// "NoValidation"). JSON Forms'
// AJV instance is only asked to evaluate rule conditions; its `validate` is routed here
// too, so nothing compiles code at run time. The Rust `check_draft` stays authoritative.
import { format as cfFormats, Validator, type OutputUnit, type Schema } from "@cfworker/json-schema";
import type { ErrorObject } from "ajv";
import Ajv2020 from "ajv/dist/2020";
import { dateProblem } from "./dates";
import { checkDin91379 } from "./din91379";
import { ageOn, CUSTOM_FORMATS, din91379TypeOf, todayIso } from "./formats";

let today: () => string = () => todayIso();
/** For tests: fix "today" for past-date and the age keywords. */
export function setToday(f: () => string): void {
  today = f;
}

for (const [name, check] of Object.entries(CUSTOM_FORMATS)) cfFormats[name] = check;
cfFormats["past-date"] = (s: string) => CUSTOM_FORMATS["past-date"](s) && s <= today();

const validators = new WeakMap<object, Validator>();
function validatorFor(schema: object): Validator {
  let v = validators.get(schema);
  if (!v) {
    v = new Validator(schema as Schema, "2020-12", false);
    validators.set(schema, v);
  }
  return v;
}

/** Keywords whose failures are shown; the rest (properties, items, allOf, then, …) only
 * wrap failures below them. */
const LEAF = new Set([
  "type", "const", "enum", "required", "format", "pattern", "minLength", "maxLength",
  "minItems", "maxItems", "uniqueItems", "contains", "minimum", "maximum",
  "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "additionalProperties",
  "minProperties", "maxProperties", "dependentRequired",
]);

function unescape(seg: string): string {
  return decodeURIComponent(seg).replace(/~1/g, "/").replace(/~0/g, "~");
}

function schemaAt(root: unknown, location: string): unknown {
  let cur: unknown = root;
  for (const seg of location.replace(/^#\/?/, "").split("/").filter(Boolean)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[unescape(seg)];
  }
  return cur;
}

/** The value at a JSON pointer (`/persons/0/family_name`) inside `data`. */
function valueAt(data: unknown, pointer: string): unknown {
  let cur: unknown = data;
  for (const seg of pointer.split("/").slice(1)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[unescape(seg)];
  }
  return cur;
}

function toAjvError(root: unknown, data: unknown, u: OutputUnit): ErrorObject | null {
  if (!LEAF.has(u.keyword)) return null;
  const instancePath = u.instanceLocation.replace(/^#/, "");
  const value = schemaAt(root, u.keywordLocation);
  const params: Record<string, unknown> = {};
  switch (u.keyword) {
    case "required": {
      const m = /required property "(.*)"/.exec(u.error);
      if (!m) return null;
      params.missingProperty = m[1];
      break;
    }
    case "format": {
      params.format = value;
      // The DIN 91379 formats say which character is wrong and where.
      const type = typeof value === "string" ? din91379TypeOf(value) : null;
      const instance = valueAt(data, instancePath);
      const refusal = type && typeof instance === "string" ? checkDin91379(instance, type) : null;
      if (refusal) params.din91379 = refusal;
      // A date or a country kept as the clerk typed it says what is wrong with it.
      if (typeof instance === "string" && (value === "date" || value === "past-date")) {
        const problem = dateProblem(instance, value === "past-date" ? today() : undefined);
        if (problem) params.date = problem;
      }
      if (typeof instance === "string" && value === "country-code") params.unknownCountry = instance;
      break;
    }
    case "additionalProperties": {
      const m = /"(.*)"/.exec(u.error);
      params.additionalProperty = m?.[1];
      break;
    }
    default:
      params.limit = value;
  }
  const parentLocation = u.keywordLocation.replace(/\/[^/]*$/, "");
  return {
    keyword: u.keyword,
    instancePath,
    schemaPath: u.keywordLocation,
    params,
    message: u.error,
    parentSchema: schemaAt(root, parentLocation) as ErrorObject["parentSchema"],
  };
}

/** The catalog's custom keywords, walked along `properties` and `items`. */
function customKeywords(schema: unknown, data: unknown, path: string, out: ErrorObject[]): void {
  if (schema === null || typeof schema !== "object" || data === null || typeof data !== "object") return;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(data)) {
    const items = s.items;
    if (items && typeof items === "object") data.forEach((d, i) => customKeywords(items, d, `${path}/${i}`, out));
    return;
  }
  const obj = data as Record<string, unknown>;
  const minor = s["x-minor-requires"] as { birth_date: string; age: number; required: string[] } | undefined;
  if (minor) {
    const birth = obj[minor.birth_date];
    const age = typeof birth === "string" ? ageOn(birth, today()) : null;
    if (age !== null && age < minor.age) {
      for (const p of minor.required) {
        if (obj[p] === undefined || obj[p] === null) {
          out.push({
            keyword: "required",
            instancePath: path,
            schemaPath: "x-minor-requires",
            params: { missingProperty: p, minor: true, age: minor.age },
            message: `required for persons under ${minor.age}`,
          });
        }
      }
    }
  }
  const minAge = s["x-min-age"] as { birth_date: string; age: number } | undefined;
  if (minAge) {
    const birth = obj[minAge.birth_date];
    const age = typeof birth === "string" ? ageOn(birth, today()) : null;
    if (age !== null && age < minAge.age) {
      out.push({
        keyword: "x-min-age",
        instancePath: `${path}/${minAge.birth_date}`,
        schemaPath: "x-min-age",
        params: { age: minAge.age },
        message: `must be at least ${minAge.age} years old`,
      });
    }
  }
  const props = s.properties as Record<string, unknown> | undefined;
  if (props) for (const [k, sub] of Object.entries(props)) customKeywords(sub, obj[k], `${path}/${k}`, out);
}

/** All problems of `data` against the form schema, as AJV-shaped errors. */
export function liveValidate(schema: unknown, data: unknown): ErrorObject[] {
  if (schema === null || typeof schema !== "object") return [];
  const result = validatorFor(schema).validate(data ?? {});
  const errors: ErrorObject[] = [];
  const seen = new Set<string>();
  for (const u of result.errors) {
    const e = toAjvError(schema, data ?? {}, u);
    if (!e) continue;
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push(e);
  }
  customKeywords(schema, data, "", errors);
  return errors;
}

/** Whether `value` matches a (small) schema, e.g. a rule condition. */
export function matches(schema: unknown, value: unknown): boolean {
  if (schema === null || typeof schema !== "object") return schema !== false;
  if (value === undefined) {
    // As AJV: an absent value matches only a schema that asks nothing of it.
    const s = schema as Record<string, unknown>;
    return !["const", "enum", "contains", "type", "required", "minItems", "minLength"].some((k) => k in s);
  }
  return validatorFor(schema).validate(value).valid;
}

/** The AJV instance JSON Forms requires: never compiles; rule conditions go to `matches`. */
export function createRuleAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, addUsedSchema: false });
  const validate = ((schema: unknown, data: unknown) => matches(schema, data)) as Ajv2020["validate"];
  ajv.validate = validate;
  ajv.compile = (() => {
    throw new Error("live validation runs through @cfworker/json-schema (CSP without unsafe-eval)");
  }) as unknown as Ajv2020["compile"];
  return ajv;
}
