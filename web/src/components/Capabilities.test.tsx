// The designer decides by a component's capabilities, never by its type's name: components with
// other names but the same capabilities get the same tabs, buttons and previews.
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ComponentDescriptor } from '../api/types';
import { capabilitiesOf, opensOnRunTab, roleOf, runTabLabel } from '../lib/capabilities';
import { flowNodeToRf } from '../lib/model';
import { initialRuntime } from '../lib/runtime';
import { displayDescriptor, feederDescriptor, lambdaDescriptor } from '../test/fixtures';
import { renderCard } from '../test/renderCard';
import { Inspector } from './Inspector';

const injector: ComponentDescriptor = { ...feederDescriptor, type: 'injector', title: 'Injector' };
const logger: ComponentDescriptor = { ...displayDescriptor, type: 'logger', title: 'Logger' };
const caller: ComponentDescriptor = { ...lambdaDescriptor, type: 'http-call', title: 'HTTP call' };
// named like the Display, but keeps nothing
const plainDisplay: ComponentDescriptor = { ...displayDescriptor, capabilities: { acceptsSend: false, showsMessages: false, invokes: false } };

function node(id: string, type: string, config = {}) {
  return flowNodeToRf({ id, type, name: id, position: { x: 0, y: 0 }, config });
}

function inspector(desc: ComponentDescriptor, id: string) {
  return render(
    <Inspector
      node={node(id, desc.type)}
      descriptor={desc}
      flowId="demo"
      saved
      tab="run"
      onTab={() => undefined}
      issues={[]}
      runtime={{ ...initialRuntime(), flowState: 'running' }}
      onRename={() => undefined}
      onConfig={() => undefined}
      onClearSecret={() => undefined}
      onClose={() => undefined}
      onStart={() => undefined}
      onClearMessages={() => undefined}
    />,
  );
}

describe('the inspector’s run tab', () => {
  it('sends for a component that accepts sends, whatever its name', () => {
    inspector(injector, 'inj1');
    expect(screen.getByTestId('tab-run').textContent).toBe('Send');
    expect(screen.getByTestId('feeder-send')).toBeTruthy();
  });

  it('shows the messages of a component that keeps them', () => {
    inspector(logger, 'log1');
    expect(screen.getByTestId('tab-run').textContent).toBe('Messages');
  });

  it('shows activity for a component named display that keeps no messages', () => {
    inspector(plainDisplay, 'display1');
    expect(screen.getByTestId('tab-run').textContent).toBe('Activity');
    expect(screen.getByTestId('activity-panel')).toBeTruthy();
  });
});

describe('the card', () => {
  function card(desc: ComponentDescriptor, id: string, config = {}) {
    return renderCard(
      { id, type: desc.type, name: id, position: { x: 0, y: 0 }, config },
      {
        components: new Map([[desc.type, desc]]),
        runtime: { ...initialRuntime(), flowState: 'running', messages: { [id]: { items: [{ body: 'hi there' }], total: 1, cap: 10 } } as never },
        deployed: new Set([id]),
      },
    );
  }

  it('has a one-click Send when the component accepts sends', () => {
    card(injector, 'inj1');
    expect(screen.getByTestId('send-inj1')).toBeTruthy();
  });

  it('previews the last message when the component keeps messages, and not otherwise', () => {
    card(logger, 'log1');
    expect(screen.getByTestId('preview-log1').textContent).toContain('hi there');
    card(plainDisplay, 'display1');
    expect(screen.queryByTestId('preview-display1')).toBeNull();
    expect(screen.queryByTestId('send-display1')).toBeNull();
  });

  it('shows the value of the field its first action fills, titled by that field', () => {
    card(caller, 'call1', { functionName: 'hello' });
    const detail = screen.getByTitle('Function name');
    expect(detail.textContent).toContain('hello');
  });
});

describe('capability rules', () => {
  it('give an undescribed component nothing special', () => {
    expect(capabilitiesOf(undefined)).toEqual({ acceptsSend: false, showsMessages: false, invokes: false });
    expect(runTabLabel(capabilitiesOf(undefined))).toBe('Activity');
    expect(roleOf(capabilitiesOf(undefined))).toBe('other');
  });

  it('open the run tab first only for sending and message-keeping components', () => {
    expect(opensOnRunTab(capabilitiesOf(injector))).toBe(true);
    expect(opensOnRunTab(capabilitiesOf(logger))).toBe(true);
    expect(opensOnRunTab(capabilitiesOf(caller))).toBe(false);
  });
});
