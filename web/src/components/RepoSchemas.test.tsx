// The property sheet renders every component schema this repository ships, with its uiSchema.
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ComponentDescriptor } from '../api/types';
import { repoComponents } from '../test/repoSchemas';
import { PropertySheet } from './PropertySheet';

const components = repoComponents();

describe('the repository’s component schemas', () => {
  it('include at least the Feeder and the Display', () => {
    expect(components.map((c) => c.type)).toEqual(expect.arrayContaining(['feeder', 'display']));
  });

  for (const c of components) {
    it(`${c.type}: renders a field for every top-level property the uiSchema orders`, () => {
      const descriptor: ComponentDescriptor = { type: c.type, title: c.type, description: '', inputs: [], outputs: [], schema: c.schema, uiSchema: c.uiSchema };
      const { container } = render(
        <PropertySheet descriptor={descriptor} nodeId="n1" config={{}} secretsSet={[]} secretsClear={[]} issues={[]} onChange={() => undefined} onClearSecret={() => undefined} />,
      );
      const props = Object.keys((c.schema.properties as Record<string, unknown>) ?? {});
      for (const p of props) {
        expect(container.querySelector(`[id^="cfg__${p}"]`), `field ${p}`).not.toBeNull();
      }
      expect(screen.queryByText(/Unsupported field schema/)).toBeNull();
    });
  }
});
