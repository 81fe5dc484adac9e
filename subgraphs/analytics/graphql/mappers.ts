// Read-model documents to API objects.
import type { ActionDoc, PatternDoc } from '../projections/analytics-read-model';
import { DetectedPattern, PatternAction } from './analytics.types';

export function toPattern(doc: PatternDoc): DetectedPattern {
  return Object.assign(new DetectedPattern(), { ...doc, evidence: [...doc.evidence], detectedAt: new Date(doc.detectedAt) });
}

export function toAction(doc: ActionDoc): PatternAction {
  return Object.assign(new PatternAction(), { ...doc, at: new Date(doc.at) });
}
