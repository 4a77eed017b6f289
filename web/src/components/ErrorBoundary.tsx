// Keeps one broken part (say, a schema rjsf cannot render) from taking the whole designer down.
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  what: string;
  children: ReactNode;
  /** Changing it clears the error (e.g. another node is opened). */
  resetKey?: string;
}

interface State {
  error: Error | null;
  key?: string;
}

export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): Partial<State> {
    return { error };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    if (props.resetKey !== state.key) return { error: null, key: props.resetKey };
    return null;
  }

  componentDidCatch(_error: Error, _info: ErrorInfo): void {
    // shown in the panel; nothing else to do
  }

  render() {
    if (this.state.error) {
      return (
        <div className="lf-callout lf-callout--error" role="alert">
          <strong>The {this.props.what} cannot be shown.</strong>
          <div className="lf-mono lf-small">{this.state.error.message}</div>
        </div>
      );
    }
    return this.props.children;
  }
}
