// A subscription selection that makes every message large (2,000 aliases of `eventType`), so that a
// paused client's socket buffers fill within a few events; and the gateway limits that let it in.
import { defaultQueryLimits, type QueryLimits } from '../../../gateway/query-limits';

export const WIDE_SELECTION = Array.from({ length: 2000 }, (_, i) => `a${i}: eventType`).join(' ');

export const wideSelectionLimits: QueryLimits = { ...defaultQueryLimits, maxTokens: 20_000, maxAliases: 5_000 };
