/** The session's token meter: used / limit tokens with colour by fullness, the breakdown, and a warning from 90 %. */
import { useChat } from "./chatStore";
import { barWidth, breakdownText, formatPercent, LEVEL_CLASS, meterLevel, meterText, meterWarning, usedPercent } from "./tokenMeter";

export function TokenMeter() {
  const { meter, meterError } = useChat();
  if (meterError) {
    return (
      <p role="alert" className="error-text">
        Token count unavailable: {meterError}
      </p>
    );
  }
  if (!meter) return <p className="text-xs text-slate-700">Counting tokens…</p>;
  const pct = usedPercent(meter);
  const level = meterLevel(pct);
  const cls = LEVEL_CLASS[level];
  const text = meterText(meter.total_tokens, meter.context_window, pct);
  const warn = meterWarning(pct) || meter.warning;
  return (
    <div className="w-full max-w-sm text-xs" data-level={level}>
      <div
        role="meter"
        aria-label="Context window used"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.min(100, pct)}
        aria-valuetext={text}
        className="h-2 w-full overflow-hidden rounded-full bg-slate-200"
      >
        <div className={`h-full ${cls.bar}`} style={{ width: barWidth(pct) }} />
      </div>
      <p className={`mt-1 font-medium ${cls.text}`} data-testid="token-meter">
        {text}
      </p>
      <p className="text-slate-700" title={`Counted with ${meter.model}`}>
        {breakdownText(meter)}
      </p>
      {warn && (
        <p role="alert" className="mt-1 rounded-md bg-red-50 px-2 py-1 font-medium text-red-800">
          This chat fills {formatPercent(pct)} of the model's context window: older messages will be summarised or
          left out. Start a new chat for a fresh context.
        </p>
      )}
    </div>
  );
}
