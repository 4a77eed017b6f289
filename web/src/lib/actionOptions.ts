// A component action's answer as picker suggestions, and a refused one as what to fill in first.
import { ApiError, describeError } from '../api/client';
import type { ActionAnswer, ComponentAction, JsonObject } from '../api/types';
import { fieldTitles } from './sheetData';

export interface ActionOption {
  value: string;
  label?: string;
  hint?: string;
}

/** Suggestions from a listing: functions (with runtime and description), aliases, versions. */
export function optionsFromAnswer(answer: ActionAnswer): ActionOption[] {
  const out: ActionOption[] = [];
  for (const f of answer.functions ?? []) out.push({ value: f.name, hint: [f.runtime, f.description].filter(Boolean).join(' · ') || undefined });
  for (const a of answer.aliases ?? []) out.push({ value: a.name, hint: a.functionVersion ? `alias → version ${a.functionVersion}` : 'alias' });
  for (const v of answer.versions ?? []) out.push({ value: v, hint: 'version' });
  return out;
}

/** "function" and "functions" for the action named `functions`. */
export function actionNouns(action: Pick<ComponentAction, 'name'>): { noun: string; nouns: string } {
  const nouns = action.name.replace(/[-_]/g, ' ');
  return { noun: nouns.replace(/s$/, ''), nouns };
}

/**
 * Why a listing failed, for the note under the field. A refusal naming config fields (422) says
 * which to fill in first, by their titles; any other failure says the listing failed and why.
 */
export function actionFailure(e: unknown, action: Pick<ComponentAction, 'name'>, schema: JsonObject): string {
  const { nouns } = actionNouns(action);
  if (e instanceof ApiError && e.status === 422 && e.details.length > 0) {
    const fields = [...new Set(e.details.map((d) => fieldTitles(schema, d.pointer.replace(/^\/config(?=\/|$)/, ''))))];
    return `Fill in ${fields.join(', ')} first to list ${nouns}.`;
  }
  return `Could not list ${nouns}: ${describeError(e)}. You can still type one.`;
}
