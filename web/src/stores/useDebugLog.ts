// The debug sidebar's stream: every Display message and error record of the open flow, and
// whether the sidebar is shown. A new flow starts with an empty stream.
import { useCallback, useEffect, useState } from 'react';
import type { FlowEvent } from '../api/types';
import { debugReducer, type DebugEntry } from '../lib/debug';

export function useDebugLog(flowId: string) {
  const [entries, setEntries] = useState<DebugEntry[]>([]);
  const [open, setOpen] = useState(false);
  const onEvent = useCallback((event: FlowEvent) => setEntries((d) => debugReducer(d, event)), []);
  const clear = useCallback(() => setEntries([]), []);
  useEffect(() => setEntries([]), [flowId]);
  return { entries, open, setOpen, onEvent, clear };
}
