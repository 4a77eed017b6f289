// Property-sheet widgets registered for the LambdaConnector's uiSchema:
// `lambdaFunction` (functions from ListFunctions) and `lambdaQualifier` (aliases and versions).
// Both are comboboxes: the list helps, free text is always allowed.
import type { WidgetProps } from '@rjsf/utils';
import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { api, describeError } from '../../api/client';
import type { JsonObject } from '../../api/types';
import type { SheetContext } from './sheetContext';

export interface ComboOption {
  value: string;
  label?: string;
  hint?: string;
}

interface ComboProps {
  widget: WidgetProps;
  /** Loads the options; null when it cannot yet (returns the reason). */
  load: () => Promise<ComboOption[]>;
  /** A key that changes when what the list depends on changes (so it reloads). */
  depsKey: string;
  blockedReason?: string | null;
  noun: string;
}

export function ComboWidget({ widget, load, depsKey, blockedReason, noun }: ComboProps) {
  const { id, value, disabled, readonly, onChange, onBlur, onFocus, placeholder, required, rawErrors } = widget;
  const [open, setOpen] = useState(false);
  const [options, setOptions] = useState<ComboOption[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [active, setActive] = useState(-1);
  const loadedFor = useRef<string | null>(null);
  const listId = useId();
  const text = typeof value === 'string' ? value : '';

  const refresh = useCallback(async () => {
    if (blockedReason) return;
    loadedFor.current = depsKey;
    setLoading(true);
    setError(null);
    try {
      setOptions(await load());
    } catch (e) {
      setOptions([]);
      setError(describeError(e));
    } finally {
      setLoading(false);
    }
  }, [blockedReason, depsKey, load]);

  useEffect(() => {
    if (open && loadedFor.current !== depsKey && !blockedReason) void refresh();
  }, [open, depsKey, blockedReason, refresh]);

  const filter = text.toLowerCase();
  const shown = (options ?? []).filter((o) => !filter || o.value.toLowerCase().includes(filter) || (o.label ?? '').toLowerCase().includes(filter));
  const exact = shown.length === 1 && shown[0]!.value === text;
  const visible = open && !exact && (shown.length > 0 || loading);

  const pick = (v: string) => {
    onChange(v);
    setOpen(false);
    setActive(-1);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((i) => Math.min(i + 1, shown.length - 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (e.key === 'Enter' && visible && active >= 0 && shown[active]) {
      e.preventDefault();
      pick(shown[active]!.value);
    } else if (e.key === 'Escape' && open) {
      e.stopPropagation();
      setOpen(false);
    }
  };

  return (
    <div className="lf-combo">
      <div className="lf-combo-row">
        <input
          id={id}
          className={`lf-input lf-mono${rawErrors && rawErrors.length > 0 ? ' is-invalid' : ''}`}
          role="combobox"
          aria-expanded={visible}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={visible && active >= 0 ? `${listId}-${active}` : undefined}
          autoComplete="off"
          spellCheck={false}
          value={text}
          required={required}
          disabled={disabled || readonly}
          placeholder={placeholder || `Type or pick a ${noun}`}
          onChange={(e) => {
            onChange(e.target.value === '' ? undefined : e.target.value);
            setOpen(true);
            setActive(-1);
          }}
          onFocus={() => {
            setOpen(true);
            onFocus(id, value);
          }}
          onBlur={() => {
            window.setTimeout(() => setOpen(false), 120);
            onBlur(id, value);
          }}
          onKeyDown={onKeyDown}
        />
        <button
          type="button"
          className="lf-icon-btn"
          onClick={() => {
            setOpen(true);
            void refresh();
          }}
          disabled={Boolean(blockedReason) || disabled || readonly}
          aria-label={`Reload ${noun} list`}
          title={blockedReason ?? `Reload the ${noun} list`}
        >
          ↻
        </button>
      </div>
      {visible && (
        <ul className="lf-combo-list" role="listbox" id={listId} aria-label={`${noun} suggestions`}>
          {loading && <li className="lf-combo-loading">Loading…</li>}
          {shown.map((o, i) => (
            <li
              key={o.value}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'is-active' : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(o.value);
              }}
            >
              <span className="lf-mono">{o.label ?? o.value}</span>
              {o.hint && <span className="lf-muted"> {o.hint}</span>}
            </li>
          ))}
        </ul>
      )}
      {blockedReason && <p className="lf-note">{blockedReason}</p>}
      {error && (
        <p className="lf-note lf-note--warn" role="status">
          Could not list {noun}s: {error}. You can still type one.
        </p>
      )}
      {options && !error && options.length === 0 && !loading && open && <p className="lf-note">No {noun}s found; type one.</p>}
    </div>
  );
}

function ctxOf(props: WidgetProps): SheetContext {
  return (props.registry.formContext ?? { config: {}, secretsSet: [], secretsClear: [], onClearSecret: () => undefined }) as SheetContext;
}

function connectionOf(ctx: SheetContext): JsonObject {
  const c = ctx.config.connection;
  return c && typeof c === 'object' && !Array.isArray(c) ? c : {};
}

export function LambdaFunctionWidget(props: WidgetProps) {
  const ctx = ctxOf(props);
  const connection = connectionOf(ctx);
  const depsKey = JSON.stringify(connection);
  const load = useCallback(async () => {
    const body: { connection: JsonObject; flow?: string; node?: string } = { connection };
    // flow and node go together: they let the server use the secrets it stores for this node
    if (ctx.flowId && ctx.nodeId) {
      body.flow = ctx.flowId;
      body.node = ctx.nodeId;
    }
    const res = await api.lambdaFunctions(body);
    return res.functions.map((f) => ({ value: f.name, hint: [f.runtime, f.description].filter(Boolean).join(' · ') }));
    // (keyed on depsKey: the connection object is rebuilt on every render)
  }, [depsKey, ctx.flowId, ctx.nodeId]);
  return <ComboWidget widget={props} load={load} depsKey={depsKey} noun="function" />;
}

export function LambdaQualifierWidget(props: WidgetProps) {
  const ctx = ctxOf(props);
  const connection = connectionOf(ctx);
  const functionName = typeof ctx.config.functionName === 'string' ? ctx.config.functionName : '';
  const depsKey = JSON.stringify([connection, functionName]);
  const load = useCallback(async () => {
    const body: { connection: JsonObject; functionName: string; flow?: string; node?: string } = { connection, functionName };
    // flow and node go together: they let the server use the secrets it stores for this node
    if (ctx.flowId && ctx.nodeId) {
      body.flow = ctx.flowId;
      body.node = ctx.nodeId;
    }
    const res = await api.lambdaQualifiers(body);
    const opts: ComboOption[] = res.aliases.map((a) => ({ value: a.name, hint: a.functionVersion ? `alias → version ${a.functionVersion}` : 'alias' }));
    for (const v of res.versions) opts.push({ value: v, hint: 'version' });
    return opts;
    // (keyed on depsKey: the connection object is rebuilt on every render)
  }, [depsKey, ctx.flowId, ctx.nodeId]);
  return (
    <ComboWidget
      widget={props}
      load={load}
      depsKey={depsKey}
      noun="qualifier"
      blockedReason={functionName ? null : 'Choose the function first to list its aliases and versions.'}
    />
  );
}
