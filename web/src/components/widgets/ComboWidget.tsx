// A combobox for a text field: suggestions loaded on demand help, free text is always allowed.
import type { WidgetProps } from '@rjsf/utils';
import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { describeError } from '../../api/client';

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
  /** What one suggestion is ("function"), and many ("functions"). */
  noun: string;
  nouns: string;
  /** Turns a failure into the note shown (default: "Could not list …: why"). */
  describeFailure?: (e: unknown) => string;
}

export function ComboWidget({ widget, load, depsKey, blockedReason, noun, nouns, describeFailure }: ComboProps) {
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
      setError(describeFailure ? describeFailure(e) : `Could not list ${nouns}: ${describeError(e)}. You can still type one.`);
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
          {error}
        </p>
      )}
      {options && !error && options.length === 0 && !loading && open && <p className="lf-note">No {nouns} found; type one.</p>}
    </div>
  );
}
