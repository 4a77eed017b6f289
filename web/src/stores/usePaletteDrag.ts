// Whether a component is being dragged from the palette (the property sheet steps aside then,
// so that every drop lands on the canvas).
import { useEffect, useState } from 'react';
import { DND_MIME } from '../components/Canvas';

export function usePaletteDrag(): boolean {
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    const start = (e: DragEvent) => {
      if (e.dataTransfer?.types.includes(DND_MIME)) setDragging(true);
    };
    const end = () => setDragging(false);
    document.addEventListener('dragstart', start);
    document.addEventListener('dragend', end);
    document.addEventListener('drop', end);
    return () => {
      document.removeEventListener('dragstart', start);
      document.removeEventListener('dragend', end);
      document.removeEventListener('drop', end);
    };
  }, []);
  return dragging;
}
