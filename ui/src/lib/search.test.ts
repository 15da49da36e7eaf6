// The service search over the real catalog: the synonyms clerks and citizens type
// ("Umzug", "Führerschein", "Pass") find the service whose name lacks them, because the
// catalog carries them as keywords (issue 17 item 4).
import { describe, expect, it } from "vitest";
import type { ServiceDto } from "../api/types";
import { searchServices } from "./search";
import anmeldungEinrichtung from "../../../catalog/services/anmeldung-einrichtung.json";
import anmeldung from "../../../catalog/services/anmeldung.json";
import befreiung from "../../../catalog/services/befreiung-ausweispflicht.json";
import beglaubigung from "../../../catalog/services/beglaubigung.json";
import fahrerlaubnis from "../../../catalog/services/fahrerlaubnis-ersterteilung.json";
import fuehrungszeugnis from "../../../catalog/services/fuehrungszeugnis.json";
import meldebescheinigung from "../../../catalog/services/meldebescheinigung.json";
import personalausweis from "../../../catalog/services/personalausweis.json";
import reisepass from "../../../catalog/services/reisepass.json";

type L = { de: string; en: string };
type ServiceFile = {
  id: string;
  leika: { key: string };
  name: L;
  description: L;
  keywords?: { de: string[]; en: string[] };
  availability: { offline: boolean; reason?: L };
  signed_printout_required: boolean;
};

/** A service file as the app's `services` command hands it to the UI (ServiceDto's
 * From impl in src-tauri: German keywords, then English ones). */
const dto = (f: ServiceFile): ServiceDto => ({
  id: f.id,
  leika: f.leika.key,
  name: f.name,
  description: f.description,
  offline: f.availability.offline,
  unavailable_reason: f.availability.reason ?? null,
  signed_printout_required: f.signed_printout_required,
  keywords: f.keywords ? [...f.keywords.de, ...f.keywords.en] : undefined,
});

// In catalog order (sorted by id), as the kit lists them.
const files = [anmeldungEinrichtung, anmeldung, befreiung, beglaubigung, fahrerlaubnis, fuehrungszeugnis, meldebescheinigung, personalausweis, reisepass] as ServiceFile[];
const catalog = files.map(dto);
const ids = (query: string) => searchServices(catalog, query).map((s) => s.id);
const withoutKeywords = catalog.map(({ keywords: _k, ...s }) => s);

describe("service search by the catalog's synonyms", () => {
  it.each([
    ["Umzug", "anmeldung"],
    ["umziehen", "anmeldung"],
    ["Wohnsitz", "anmeldung"],
    ["Führerschein", "fahrerlaubnis-ersterteilung"],
    ["Fuehrerschein", "fahrerlaubnis-ersterteilung"],
    ["fuhrerschein", "fahrerlaubnis-ersterteilung"],
    ["Pass", "reisepass"],
    ["Pflegeheim", "anmeldung-einrichtung"],
    ["beglaubigte Kopie", "beglaubigung"],
    ["Wohnsitzbescheinigung", "meldebescheinigung"],
    ["Perso", "personalausweis"],
  ])("German: %s finds %s first", (query, id) => {
    expect(ids(query)[0]).toBe(id);
  });

  it.each([
    ["moving house", "anmeldung"],
    ["change of address", "anmeldung"],
    ["driver's licence", "fahrerlaubnis-ersterteilung"],
    ["driving license", "fahrerlaubnis-ersterteilung"],
    ["passport", "reisepass"],
    ["criminal record", "fuehrungszeugnis"],
    ["proof of address", "meldebescheinigung"],
    ["nursing home", "anmeldung-einrichtung"],
    ["certified copy", "beglaubigung"],
  ])("English: %s finds %s first", (query, id) => {
    expect(ids(query)[0]).toBe(id);
  });

  it("without the keywords these searches find nothing or something else", () => {
    const bare = (q: string) => searchServices(withoutKeywords, q).map((s) => s.id);
    expect(bare("Umzug")).toEqual([]);
    expect(bare("umziehen")).toEqual([]);
    expect(bare("Führerschein")).toEqual([]);
    expect(bare("Wohnsitz")).not.toContain("anmeldung");
  });

  it("a synonym does not drag in unrelated services", () => {
    expect(ids("Umzug")).toEqual(["anmeldung"]);
    expect(ids("Führerschein")).toEqual(["fahrerlaubnis-ersterteilung"]);
    // "Wohnsitz" is the Anmeldung's, and the Meldebescheinigung's as "Wohnsitzbescheinigung".
    expect(ids("Wohnsitz")).toEqual(["anmeldung", "meldebescheinigung"]);
  });

  it("a keyword counts like the name, and a whole keyword leads", () => {
    const kw = (id: string, keywords: string[], name = id): ServiceDto => ({ ...catalog[0], id, name: { de: name, en: name }, description: { de: "Pass", en: "" }, keywords });
    const services = [kw("a", []), kw("b", ["Passbild"]), kw("c", ["Pass"])];
    // a: description only (1); b: inside a keyword (2); c: the whole keyword (3).
    expect(searchServices(services, "pass").map((s) => s.id)).toEqual(["c", "b", "a"]);
    expect(searchServices(services, "passbild").map((s) => s.id)).toEqual(["b"]);
  });

  it("every service of the catalog carries keywords in both languages", () => {
    for (const f of files) {
      expect(f.keywords?.de.length, f.id).toBeGreaterThan(0);
      expect(f.keywords?.en.length, f.id).toBeGreaterThan(0);
    }
  });

  it("a catalog without keywords (older kits' catalogs) is searched as before", () => {
    expect(searchServices(withoutKeywords, "Reisepass").map((s) => s.id)).toEqual(["reisepass"]);
  });
});
