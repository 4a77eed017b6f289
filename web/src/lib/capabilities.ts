// The designer's type decisions, read from a component's descriptor (capabilities and actions):
// which run tab a node has, what its card shows, its icon and colour, which action fills a field.
import type { ComponentAction, ComponentCapabilities, ComponentDescriptor } from '../api/types';

/** What a node of a type the server does not know (or does not describe) can do: nothing special. */
export const NO_CAPABILITIES: ComponentCapabilities = { acceptsSend: false, showsMessages: false, invokes: false };

export function capabilitiesOf(desc: ComponentDescriptor | undefined): ComponentCapabilities {
  return { ...NO_CAPABILITIES, ...(desc?.capabilities ?? {}) };
}

/** The inspector's second tab: sending, the messages kept, or activity (status and error records). */
export function runTabLabel(c: ComponentCapabilities): 'Send' | 'Messages' | 'Activity' {
  if (c.acceptsSend) return 'Send';
  if (c.showsMessages) return 'Messages';
  return 'Activity';
}

/** A node whose run tab is worth opening first while the flow runs (Send, Messages). */
export function opensOnRunTab(c: ComponentCapabilities): boolean {
  return c.acceptsSend || c.showsMessages;
}

/** The role a card is drawn in (icon, colour, CSS modifier). */
export type Role = 'source' | 'sink' | 'service' | 'other';

export function roleOf(c: ComponentCapabilities): Role {
  if (c.invokes) return 'service';
  if (c.acceptsSend) return 'source';
  if (c.showsMessages) return 'sink';
  return 'other';
}

const ICONS: Record<Role, string> = { source: '➤', sink: '▤', service: 'λ', other: '◆' };
const COLOURS: Record<Role, string> = { source: '#3b82f6', sink: '#10b981', service: '#f59e0b', other: '#94a3b8' };

export function roleIcon(role: Role): string {
  return ICONS[role];
}

export function roleColour(role: Role): string {
  return COLOURS[role];
}

/** The action whose listing fills the config field at `pointer`, if any. */
export function actionForField(desc: Pick<ComponentDescriptor, 'actions'> | undefined, pointer: string): ComponentAction | undefined {
  return desc?.actions?.find((a) => a.field === pointer);
}
