// The real catalog files, read straight from ../catalog so the tests follow it.
import anmeldungJson from "../../../catalog/services/anmeldung.json";
import fuehrungszeugnisJson from "../../../catalog/services/fuehrungszeugnis.json";

type ServiceFile = {
  id: string;
  forms: { version: number; schema: unknown; ui: unknown }[];
  attachments?: unknown[];
};

export const anmeldung = anmeldungJson as unknown as ServiceFile;
export const fuehrungszeugnis = fuehrungszeugnisJson as unknown as ServiceFile;
export const latest = (s: ServiceFile) => s.forms[s.forms.length - 1];
