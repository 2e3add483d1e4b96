import type { ReplyRef, User } from '@parley/protocol';
import { useI18n } from '../i18n';
import { channelHref } from '../route';

/** The message a reply answers: who and the start of it; a press jumps to it. */
export function ReplyQuote({
  channelId,
  replyTo,
  users,
}: {
  channelId: string;
  replyTo: ReplyRef;
  users: Readonly<Record<string, User>>;
}) {
  const { t } = useI18n();
  const sender = users[replyTo.senderId];
  const name = sender?.displayName || sender?.username || '…';
  return (
    <a className="reply-quote" href={channelHref(channelId, replyTo.id)} title={t('edits.jump')}>
      <span className="reply-name">{name}</span>
      <span className="reply-preview" dir="auto">
        {replyTo.preview ?? t('edits.originalDeleted')}
      </span>
    </a>
  );
}
