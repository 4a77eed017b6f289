// The URL names the open flow (`#/flow/<id>`): it is opened on load and when the hash changes.
import { useEffect, useRef } from 'react';
import { flowIdFromHash } from './useFlowActions';

export function useHashRoute(openId: string, loadFlow: (id: string) => void): void {
  const current = useRef(openId);
  current.current = openId;
  const load = useRef(loadFlow);
  load.current = loadFlow;
  useEffect(() => {
    const id = flowIdFromHash();
    if (id) load.current(id);
    const onHash = () => {
      const next = flowIdFromHash();
      if (next && next !== current.current) load.current(next);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
}
