// The `password` widget for write-only fields. The server never returns a secret: it says which
// ones it holds (`secretsSet`). An empty input keeps the stored secret; typing replaces it.
import type { WidgetProps } from '@rjsf/utils';
import { pointerFromWidgetId, type SheetContext } from './sheetContext';

export function SecretWidget(props: WidgetProps) {
  const { id, value, disabled, readonly, onChange, onBlur, onFocus, required, rawErrors, placeholder } = props;
  const ctx = props.registry.formContext as SheetContext | undefined;
  const pointer = pointerFromWidgetId(id);
  const isSet = Boolean(ctx?.secretsSet.includes(pointer));
  const clearing = Boolean(ctx?.secretsClear.includes(pointer));
  const typed = typeof value === 'string' && value !== '';
  let note: string | null = null;
  if (isSet && clearing) note = 'The stored secret will be removed when you save.';
  else if (isSet && typed) note = 'Saving replaces the stored secret.';
  else if (isSet) note = 'Leave empty to keep it.';

  return (
    <div className="lf-secret">
      <div className="lf-combo-row">
        <input
          id={id}
          type="password"
          className={`lf-input${rawErrors && rawErrors.length > 0 ? ' is-invalid' : ''}`}
          autoComplete="new-password"
          value={typeof value === 'string' ? value : ''}
          required={required && !isSet}
          disabled={disabled || readonly || clearing}
          placeholder={isSet && !clearing ? '•••••••• (a secret is set)' : placeholder || 'not set'}
          onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
          onBlur={() => onBlur(id, value)}
          onFocus={() => onFocus(id, value)}
          aria-describedby={`${id}-secret-state`}
        />
        {isSet && ctx && (
          <button type="button" className="lf-btn lf-btn--small" onClick={() => ctx.onClearSecret(pointer, !clearing)}>
            {clearing ? 'Keep' : 'Remove'}
          </button>
        )}
      </div>
      <p id={`${id}-secret-state`} className="lf-note">
        {isSet ? <span className={`lf-pill ${clearing ? 'lf-pill--warn' : 'lf-pill--ok'}`}>{clearing ? 'to be removed' : 'a secret is set'}</span> : <span className="lf-pill">no secret stored</span>}{' '}
        {note}
      </p>
    </div>
  );
}
