// Asks for the bearer token of a server started with --token; kept in the browser's storage.
import { useState } from 'react';
import { setToken } from '../api/client';
import { Dialog } from './Dialog';

export function TokenDialog({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const [value, setValue] = useState('');
  return (
    <Dialog
      title="This server needs a token"
      onCancel={onCancel}
      actions={
        <>
          <button type="button" className="lf-btn" onClick={onCancel}>
            Cancel
          </button>
          <button
            type="button"
            className="lf-btn lf-btn--primary"
            disabled={!value}
            onClick={() => {
              setToken(value);
              onDone();
            }}
          >
            Use token
          </button>
        </>
      }
    >
      <label className="lf-field">
        <span>Bearer token (as given to lambdaflow serve with --token)</span>
        <input className="lf-input" type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" />
      </label>
    </Dialog>
  );
}
