/**
 * Helpdesk.PostToChat: posts a message to a chat channel through an incoming webhook
 * (Slack-compatible JSON: `{ channel, text }`). Returns false, after logging the message,
 * when no webhook is configured; fails when the chat refuses it, so the caller's error
 * handling decides (EscalateUrgent continues).
 */
import { defineAction } from '@runplane/microflows';

const TIMEOUT_MS = 5000;

export default defineAction({
  name: 'Helpdesk.PostToChat',
  parameters: { WebhookUrl: 'String', Channel: 'String', Text: 'String' },
  returns: 'Boolean',
  async run(ctx, { WebhookUrl, Channel, Text }) {
    if (WebhookUrl === null || WebhookUrl.trim() === '') {
      ctx.log.info('no chat webhook configured; not posted', { channel: Channel, text: Text });
      return false;
    }
    const response = await fetch(WebhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: Channel, text: Text }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) {
      throw new Error(`The chat answered ${response.status} ${response.statusText}`);
    }
    ctx.log.info('posted to chat', { channel: Channel, status: response.status });
    return true;
  },
});
