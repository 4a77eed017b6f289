import { fireEvent, renderHook } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { editorReducer, emptyEditor, type EditorAction, type EditorState } from '../lib/editor';
import { demoFlow } from '../test/fixtures';
import { useShortcuts } from './useShortcuts';

function setup(opts: { select?: string[]; selectEdge?: string; dialogOpen?: boolean } = {}) {
  let editor = editorReducer(emptyEditor(), { type: 'load', flow: demoFlow, saved: true });
  if (opts.select) editor = editorReducer(editor, { type: 'select', nodeIds: opts.select });
  if (opts.selectEdge) editor = editorReducer(editor, { type: 'edgesChange', changes: [{ type: 'select', id: opts.selectEdge, selected: true }] });
  const editorRef = { current: editor as EditorState };
  const dispatched: EditorAction[] = [];
  const dispatch = (a: EditorAction) => dispatched.push(a);
  const save = vi.fn();
  const rename = vi.fn();
  const toast = vi.fn();
  renderHook(() => useShortcuts({ editorRef, dispatch, open: true, dialogOpen: opts.dialogOpen ?? false, save, rename, toast }));
  return { dispatched, save, rename, toast };
}

describe('useShortcuts', () => {
  it('undoes, redoes and saves', () => {
    const { dispatched, save } = setup();
    fireEvent.keyDown(window, { key: 'z', ctrlKey: true });
    fireEvent.keyDown(window, { key: 'Z', ctrlKey: true, shiftKey: true });
    fireEvent.keyDown(window, { key: 'y', ctrlKey: true });
    fireEvent.keyDown(window, { key: 's', ctrlKey: true });
    expect(dispatched.map((a) => a.type)).toEqual(['undo', 'redo', 'redo']);
    expect(save).toHaveBeenCalledOnce();
  });

  it('leaves keys typed in a field to the field, except Ctrl+S', () => {
    const { dispatched, save } = setup();
    const input = document.createElement('input');
    document.body.appendChild(input);
    fireEvent.keyDown(input, { key: 'z', ctrlKey: true });
    fireEvent.keyDown(input, { key: 's', ctrlKey: true });
    input.remove();
    expect(dispatched).toEqual([]);
    expect(save).toHaveBeenCalledOnce();
  });

  it('undoes from a radio button or checkbox, which have no text of their own to undo', () => {
    const { dispatched } = setup();
    for (const type of ['radio', 'checkbox']) {
      const input = document.createElement('input');
      input.type = type;
      document.body.appendChild(input);
      fireEvent.keyDown(input, { key: 'z', ctrlKey: true });
      input.remove();
    }
    expect(dispatched.map((a) => a.type)).toEqual(['undo', 'undo']);
  });

  it('does nothing but save while a dialog is open', () => {
    const { dispatched } = setup({ select: ['lambda1'], dialogOpen: true });
    fireEvent.keyDown(window, { key: 'a', ctrlKey: true });
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(dispatched).toEqual([]);
  });

  it('copies the selection, pastes it further off each time, and duplicates it', () => {
    const { dispatched, toast } = setup({ select: ['lambda1'] });
    fireEvent.keyDown(window, { key: 'v', ctrlKey: true }); // nothing copied yet
    fireEvent.keyDown(window, { key: 'c', ctrlKey: true });
    fireEvent.keyDown(window, { key: 'v', ctrlKey: true });
    fireEvent.keyDown(window, { key: 'v', ctrlKey: true });
    fireEvent.keyDown(window, { key: 'd', ctrlKey: true });
    expect(toast).toHaveBeenCalledWith('info', 'Copied 1 node.');
    const pastes = dispatched.filter((a): a is Extract<EditorAction, { type: 'paste' }> => a.type === 'paste');
    expect(pastes.map((p) => [p.fragment.nodes.map((n) => n.id), p.offset])).toEqual([
      [['lambda1'], 40],
      [['lambda1'], 80],
      [['lambda1'], 40],
    ]);
  });

  it('selects all, deselects with Escape and renames the one selected node with F2', () => {
    const { dispatched, rename } = setup({ select: ['lambda1'] });
    fireEvent.keyDown(window, { key: 'a', ctrlKey: true });
    fireEvent.keyDown(window, { key: 'F2' });
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(dispatched.map((a) => a.type)).toEqual(['selectAll', 'select']);
    expect(rename).toHaveBeenCalledOnce();
  });

  it('closes a route sheet with Escape: a selected wire is deselected', () => {
    const { dispatched } = setup({ selectEdge: 'route2' });
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(dispatched).toEqual([{ type: 'select', nodeIds: [] }]);
    const none = setup();
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(none.dispatched).toEqual([]);
  });
});
