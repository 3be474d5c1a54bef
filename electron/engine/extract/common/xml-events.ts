// A minimal XML tokenizer for machine-written Office XML: start/end tags and text, entities decoded.
// It does not validate and never expands DTD entities (no "billion laughs"); comments, processing
// instructions and DOCTYPE are skipped. Element names are matched as written, prefix included
// ("w:p"): Office writers use the conventional prefixes.

export type XmlEvent =
  | { readonly type: 'open'; readonly name: string; readonly attributes: string; readonly selfClosing: boolean }
  | { readonly type: 'close'; readonly name: string }
  | { readonly type: 'text'; readonly text: string };

const TOKEN = /<([/]?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=>/]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE(?:[^>[]|\[[\s\S]*?\])*>/g;

const NAMED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeXmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[body] ?? whole;
  });
}

/** The value of `name` in a start tag's raw attribute text, entities decoded; null when absent. */
export function xmlAttribute(attributes: string, name: string): string | null {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`(?:^|\\s)${escaped}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(attributes);
  return match ? decodeXmlEntities(match[1] ?? match[2]) : null;
}

export function* xmlEvents(xml: string): Generator<XmlEvent> {
  let last = 0;
  for (const match of xml.matchAll(TOKEN)) {
    if (match.index > last) yield { type: 'text', text: decodeXmlEntities(xml.slice(last, match.index)) };
    last = match.index + match[0].length;
    if (match[2] !== undefined) {
      if (match[1] === '/') yield { type: 'close', name: match[2] };
      else {
        const selfClosing = match[4] === '/';
        yield { type: 'open', name: match[2], attributes: match[3] ?? '', selfClosing };
        if (selfClosing) yield { type: 'close', name: match[2] };
      }
    } else if (match[5] !== undefined) yield { type: 'text', text: match[5] };
  }
  if (last < xml.length) yield { type: 'text', text: decodeXmlEntities(xml.slice(last)) };
}
