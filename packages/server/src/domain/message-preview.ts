import { limits, type Message, type MessagePreview } from '@parley/protocol';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The first `maxCodePoints` code points of `text`, cut at the last grapheme boundary within them
 * (so an emoji sequence or a letter with its accents stays whole), or, when even the first
 * grapheme is longer (a base with thousands of combining marks), at a code point boundary, which
 * never splits a surrogate pair. Undefined when the whole text fits.
 */
export function truncateText(text: string, maxCodePoints: number): string | undefined {
  if (text.length <= maxCodePoints) return undefined;
  let cutEnd = 0;
  for (let codePoints = 0; codePoints < maxCodePoints && cutEnd < text.length; codePoints++) {
    cutEnd += text.codePointAt(cutEnd)! > 0xffff ? 2 : 1;
  }
  if (cutEnd >= text.length) return undefined;
  // Whether a grapheme ends at cutEnd depends on what follows it: segment one code point further.
  let wholeEnd = 0;
  for (const { index } of graphemes.segment(text.slice(0, cutEnd + 2))) {
    if (index > cutEnd) break;
    wholeEnd = index;
  }
  return text.slice(0, wholeEnd > 0 ? wholeEnd : cutEnd);
}

/** A channel view's lastMessage: the message, or its preview flagged `textTruncated`. */
export function messagePreview(message: Message, maxCodePoints: number = limits.previewCodePoints): MessagePreview {
  const preview = truncateText(message.text, maxCodePoints);
  return preview === undefined ? message : { ...message, text: preview, textTruncated: true };
}
