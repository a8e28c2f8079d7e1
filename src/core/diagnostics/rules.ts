import { catalogRules } from './catalogRules';
import { labRules } from './labRules';
import type { DiagnosticRule } from './ruleTypes';

/** Every diagnostic rule, catalog-derived first. Ids are unique (a unit test checks it). */
export const diagnosticRules: readonly DiagnosticRule[] = [...catalogRules, ...labRules];

/** The rule with this id, or undefined. */
export function ruleById(id: string): DiagnosticRule | undefined {
  return diagnosticRules.find((r) => r.id === id);
}
