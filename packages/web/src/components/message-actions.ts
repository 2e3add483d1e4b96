/**
 * What the composer is doing besides sending: answering a message or editing
 * one. ChatView holds it; message rows set it, the composer shows and clears it.
 */
import type { Message } from '@parley/protocol';
import { createContext, useContext } from 'react';

export interface ComposerMode {
  replyTo?: Message;
  editing?: Message;
}

export interface MessageActionsValue {
  mode: ComposerMode;
  setMode(mode: ComposerMode): void;
}

export const MessageActionsContext = createContext<MessageActionsValue>({ mode: {}, setMode: () => {} });

export function useMessageActions(): MessageActionsValue {
  return useContext(MessageActionsContext);
}

/** Emoji offered by the reaction picker. */
export const quickReactions = ['👍', '❤️', '😂', '😮', '😢', '🙏', '🎉', '🔥', '👀', '✅', '👏', '💯'] as const;
