// The installed services, loaded once per session, to name services in lists
// (drafts and records carry only the service id).
import { createContext, useContext } from "react";
import type { ServiceDto } from "../api/types";
import { pick, useI18n } from "../i18n/i18n";

export const ServicesContext = createContext<ServiceDto[]>([]);

export function useServiceName(): (id: string) => string {
  const services = useContext(ServicesContext);
  const { lang } = useI18n();
  return (id) => {
    const s = services.find((x) => x.id === id);
    return s ? pick(s.name, lang) : id;
  };
}
