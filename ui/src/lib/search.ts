// Service search over German and English names, the catalog's search keywords
// (synonyms such as "Umzug" or "Führerschein" that the names lack) and descriptions.
import type { ServiceDto } from "../api/types";

/** Lower case, umlauts folded (ü → ue, ß → ss) and accents removed, so "Fuehrung",
 * "führung" and "Fuhrung" all find "Führungszeugnis". */
export function normalize(s: string): string {
  return s
    .toLowerCase()
    .replace(/ä/g, "ae")
    .replace(/ö/g, "oe")
    .replace(/ü/g, "ue")
    .replace(/ß/g, "ss")
    .normalize("NFD")
    .replace(/\p{M}/gu, "");
}

function variants(s: string): string[] {
  const n = normalize(s);
  // "führung" also without the e: "fuhrung".
  return [n, n.replace(/ae/g, "a").replace(/oe/g, "o").replace(/ue/g, "u")];
}

export function searchServices(services: ServiceDto[], query: string): ServiceDto[] {
  const words = normalize(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return services;
  const whole = words.join(" ");
  const scored = services
    .map((s) => {
      const name = [s.name.de, s.name.en].flatMap(variants).join(" ");
      const keywords = (s.keywords ?? []).flatMap(variants).join(" ");
      const desc = [s.description.de, s.description.en].flatMap(variants).join(" ");
      let score = 0;
      for (const w of words) {
        const wv = variants(w);
        // A keyword is as good as the name: the catalog lists it for this service.
        if (wv.some((x) => name.includes(x) || keywords.includes(x))) score += 2;
        else if (wv.some((x) => desc.includes(x))) score += 1;
        else return { s, score: -1 };
      }
      // The whole query is one of the service's keywords ("Perso", "Pass"): it comes
      // before services whose names or keywords merely contain the query.
      if ((s.keywords ?? []).some((k) => variants(k.trim().replace(/\s+/g, " ")).includes(whole))) score += 1;
      return { s, score };
    })
    .filter((x) => x.score > 0);
  // Stable: higher score first, catalog order otherwise.
  return scored.sort((a, b) => b.score - a.score).map((x) => x.s);
}
