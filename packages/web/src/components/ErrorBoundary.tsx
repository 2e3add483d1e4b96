import { Component, type ErrorInfo, type ReactNode } from 'react';
import { useI18n } from '../i18n';

interface Props {
  /** Names the part of the app in the console report ("message list", "group details"). */
  area: string;
  children: ReactNode;
  /** Rendered instead of the default message (for parts without room for one). */
  fallback?: (retry: () => void) => ReactNode;
}

/**
 * Catches a rendering error in one part of the app: that part shows a message with "Try again"
 * instead of the whole page going blank, and the console gets the error with its component stack.
 */
export class ErrorBoundary extends Component<Props, { error: unknown }> {
  override state: { error: unknown } = { error: undefined };

  static getDerivedStateFromError(error: unknown): { error: unknown } {
    return { error };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error(
      `Parley: the ${this.props.area} failed to render: ${String(error)}${info.componentStack ?? ''}`,
      error,
    );
  }

  retry = (): void => this.setState({ error: undefined });

  override render(): ReactNode {
    if (this.state.error === undefined) return this.props.children;
    return this.props.fallback ? this.props.fallback(this.retry) : <PartFailed onRetry={this.retry} />;
  }
}

function PartFailed({ onRetry }: { onRetry(): void }) {
  const { t } = useI18n();
  return (
    <div className="part-failed" role="alert">
      <p>{t('error.part')}</p>
      <button type="button" className="btn secondary small" onClick={onRetry}>
        {t('chat.tryAgain')}
      </button>
    </div>
  );
}
