// The query as the user built it → the contract's SearchRequest. Empty parts are left out rather
// than sent empty, so the engine's defaults (and its validation) stay the one source of truth.
import type { SearchRequest } from '#contract/common/entities.ts';
import type { Query } from './app-state.ts';

export function toSearchRequest(query: Query, limit: number): SearchRequest {
  const text = query.text.trim();
  return {
    ...(text !== '' ? { text } : {}),
    ...(query.image ? { image: { dataBase64: query.image.dataBase64, mime: query.image.mime } } : {}),
    ...(query.likeItem ? { likeItemId: query.likeItem.id } : {}),
    filters: {
      ...(query.kinds.length > 0 ? { kinds: query.kinds } : {}),
      ...(query.rootIds.length > 0 ? { rootIds: query.rootIds } : {}),
      ...(query.from !== null ? { from: query.from } : {}),
      ...(query.to !== null ? { to: query.to } : {}),
    },
    sort: query.sort,
    limit,
    cutoff: query.cutoff,
  };
}
