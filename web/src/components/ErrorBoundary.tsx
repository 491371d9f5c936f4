/** Catches a screen's rendering error and shows what happened with a way out, not a blank page. */
import { Component, type ReactNode } from "react";

interface Props {
  children: ReactNode;
  /** Where the error happened, in words ("the chat screen"). */
  where: string;
}

export class ErrorBoundary extends Component<Props, { error: Error | null }> {
  state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  componentDidCatch(error: Error) {
    console.error(`Selah: ${this.props.where} failed`, error);
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div role="alert" className="m-4 rounded-lg border border-red-300 bg-red-50 p-4 text-red-900">
        <h2 className="font-semibold">Something went wrong in {this.props.where}.</h2>
        <p className="mt-1 text-sm">{this.state.error.message}</p>
        <p className="mt-1 text-sm">Your data on the server is unaffected. Try again, or reload the page.</p>
        <button className="btn mt-3" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </div>
    );
  }
}
