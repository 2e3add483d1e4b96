import type { Channel, Message } from '@parley/protocol';
import { useEffect, useRef, useState } from 'react';
import { useI18n } from '../i18n';
import { useChat, useChatStore } from '../state/context';
import { Icon } from './Icon';
import { quickReactions, useMessageActions } from './message-actions';

/**
 * A message's actions, shown on hover and keyboard focus: reply, react (a small
 * picker), and for the sender edit, and for the sender or a group's owner or admin delete, which
 * asks first.
 */
export function MessageActions({ message, channel }: { message: Message; channel: Channel }) {
  const { t } = useI18n();
  const store = useChatStore();
  const meId = useChat((s) => s.me.id);
  const { setMode } = useMessageActions();
  const [picking, setPicking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const mine = message.senderId === meId;
  const role = channel.members.find((m) => m.id === meId)?.role;
  const canDelete = mine || (channel.kind === 'group' && (role === 'owner' || role === 'admin'));
  const ref = { channelId: channel.id, messageId: message.id };

  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);

  if (message.deletedAt !== undefined) return null;
  if (confirming) {
    return (
      <div className="msg-confirm" role="alertdialog" aria-label={t('edits.deleteConfirm')}>
        <span>{t('edits.deleteConfirm')}</span>
        <button
          ref={confirmRef}
          type="button"
          className="link-btn danger"
          onClick={() => {
            setConfirming(false);
            store.changeMessage({ kind: 'delete', ...ref });
          }}
        >
          {t('edits.delete')}
        </button>
        <button type="button" className="link-btn muted" onClick={() => setConfirming(false)}>
          {t('edits.cancel')}
        </button>
      </div>
    );
  }
  return (
    <div className={`msg-actions${picking ? ' open' : ''}`} role="toolbar" aria-label={t('edits.actions')}>
      <button
        type="button"
        title={t('edits.reply')}
        aria-label={t('edits.reply')}
        onClick={() => setMode({ replyTo: message })}
      >
        <Icon name="reply" size={15} />
      </button>
      <button
        type="button"
        title={t('edits.react')}
        aria-label={t('edits.react')}
        aria-expanded={picking}
        onClick={() => setPicking((v) => !v)}
      >
        <Icon name="smile" size={15} />
      </button>
      {mine && (
        <button
          type="button"
          title={t('edits.edit')}
          aria-label={t('edits.edit')}
          onClick={() => setMode({ editing: message })}
        >
          <Icon name="edit" size={15} />
        </button>
      )}
      {canDelete && (
        <button
          type="button"
          title={t('edits.delete')}
          aria-label={t('edits.delete')}
          onClick={() => setConfirming(true)}
        >
          <Icon name="trash" size={15} />
        </button>
      )}
      {picking && (
        <div
          className="reaction-picker"
          role="group"
          aria-label={t('edits.react')}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setPicking(false);
          }}
        >
          {quickReactions.map((emoji) => {
            const mineAlready = message.reactions?.some((r) => r.emoji === emoji && r.me) ?? false;
            return (
              <button
                key={emoji}
                type="button"
                aria-pressed={mineAlready}
                onClick={() => {
                  setPicking(false);
                  store.changeMessage({ kind: mineAlready ? 'unreact' : 'react', ...ref, emoji });
                }}
              >
                {emoji}
              </button>
            );
          })}
        </div>
      )}
    </div>
  );
}
