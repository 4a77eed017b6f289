import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { ConfirmDialog } from './ConfirmDialog';

describe('ConfirmDialog', () => {
  it('offers Cancel first and each choice, danger ones drawn red', () => {
    const choose = vi.fn();
    const cancel = vi.fn();
    render(
      <ConfirmDialog title="Delete it?" tone="danger" onCancel={cancel} choices={[{ label: 'Delete', onChoose: choose, danger: true, testId: 'confirm' }]}>
        <p>Gone for good.</p>
      </ConfirmDialog>,
    );
    expect(screen.getByRole('dialog', { name: 'Delete it?' }).textContent).toContain('Gone for good.');
    expect(screen.getAllByRole('button').map((b) => b.textContent)).toEqual(['Cancel', 'Delete']);
    expect(screen.getByTestId('confirm').className).toContain('lf-btn--danger');
    fireEvent.click(screen.getByTestId('confirm'));
    expect(choose).toHaveBeenCalledOnce();
    fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' });
    expect(cancel).toHaveBeenCalledOnce();
  });

  it('puts Cancel last when asked, with its own label', () => {
    render(
      <ConfirmDialog title="Conflict" tone="warning" onCancel={() => undefined} cancelLast cancelLabel="Later" choices={[{ label: 'Reload', onChoose: () => undefined }, { label: 'Overwrite', onChoose: () => undefined }]}>
        <p>x</p>
      </ConfirmDialog>,
    );
    expect(screen.getAllByRole('button').map((b) => b.textContent)).toEqual(['Reload', 'Overwrite', 'Later']);
  });
});
