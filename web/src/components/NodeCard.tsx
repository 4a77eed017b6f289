// A node on the canvas: name, type, live status badge and counters, ports as handles.
// Handle ids are exactly the port names; `error` is drawn red and labelled.
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { useDesigner } from '../context';
import { capabilitiesOf, roleIcon, roleOf } from '../lib/capabilities';
import { getAt } from '../lib/pointer';
import { fieldTitles } from '../lib/sheetData';
import { preview } from '../lib/message';
import { nodeBadge } from '../lib/runtime';
import type { DesignerNode } from '../lib/model';

function NodeCardImpl({ id, data, selected }: NodeProps<DesignerNode>) {
  const { components, runtime, issues, changed, deployed, sendDefault, workers } = useDesigner();
  const desc = components.get(data.type);
  const status = runtime.nodes[id];
  const nodeIssues = issues.byNode[id] ?? [];
  const inputs = desc?.inputs ?? ['in'];
  const outputs = desc?.outputs ?? ['out'];
  const state = nodeBadge(runtime, id, deployed.has(id));
  const isChanged = changed.has(id);
  const workerCount = workers.get(id) ?? 0;
  const running = runtime.flowState === 'running';
  const lastMsg = runtime.messages[id]?.items.at(-1);
  const can = capabilitiesOf(desc);
  const role = roleOf(can);
  // the card shows the field the component's first action fills (the LambdaConnector's function)
  const shownField = desc?.actions?.[0]?.field;
  const shownValue = shownField ? getAt(data.config, shownField) : undefined;
  const classes = ['lf-node', `lf-node--${role}`];
  if (selected) classes.push('is-selected');
  if (nodeIssues.length > 0) classes.push('is-invalid');
  if (!desc) classes.push('is-unknown');
  if (isChanged) classes.push('is-changed');

  const outTop = (i: number) => `${((i + 1) * 100) / (outputs.length + 1)}%`;
  const inTop = (i: number) => `${((i + 1) * 100) / (inputs.length + 1)}%`;

  return (
    <div className={classes.join(' ')} data-testid={`node-${id}`} data-node-id={id} title={nodeIssues.map((i) => i.message).join('\n') || undefined}>
      {inputs.map((port, i) => (
        <Handle
          key={`in-${port}`}
          id={port}
          type="target"
          position={Position.Left}
          className={`lf-handle lf-handle--in`}
          style={{ top: inTop(i) }}
          aria-label={`${data.name} input ${port}`}
          data-port={port}
        >
          <span className="lf-handle-label lf-handle-label--left">{port}</span>
        </Handle>
      ))}
      <div className="lf-node-head">
        <span className="lf-node-icon" aria-hidden="true">
          {roleIcon(role)}
        </span>
        <div className="lf-node-titles">
          <div className="lf-node-name">
            {data.name}
            {isChanged && (
              <span className="lf-node-changed" data-testid={`changed-${id}`} title="Differs from the running version: Deploy to apply">
                ● not deployed
              </span>
            )}
          </div>
          <div className="lf-node-sub">
            {id} · {desc?.title ?? `unknown type "${data.type}"`}
          </div>
        </div>
      </div>
      {can.acceptsSend && (
        <button
          type="button"
          className="lf-btn lf-btn--small lf-node-send nodrag"
          data-testid={`send-${id}`}
          disabled={!running || !deployed.has(id)}
          title={running ? 'Send the default message once' : 'Deploy the flow to send'}
          onClick={(e) => {
            e.stopPropagation();
            sendDefault(id);
          }}
        >
          ➤ Send
        </button>
      )}
      {desc && shownField && typeof shownValue === 'string' && shownValue !== '' && (
        <div className="lf-node-detail" title={fieldTitles(desc.schema, shownField)}>
          ƒ <code>{shownValue}</code>
        </div>
      )}
      {can.showsMessages && lastMsg && (
        <div className={`lf-node-detail lf-node-preview${lastMsg.properties?.['error.type'] ? ' is-error' : ''}`} title="Last message received" data-testid={`preview-${id}`}>
          {lastMsg.properties?.['error.type'] ? `⚠ ${String(lastMsg.properties['error.type'])} / ${String(lastMsg.properties['error.code'] ?? '')}` : preview(lastMsg, 36)}
        </div>
      )}
      {workerCount > 0 && (
        <div className="lf-node-detail lf-node-workers" data-testid={`workers-${id}`} title={`Run by ${workerCount} JetStream worker${workerCount === 1 ? '' : 's'} now`}>
          ×{workerCount} worker{workerCount === 1 ? '' : 's'}
        </div>
      )}
      {status?.concurrencyLimit !== undefined && (
        <div className="lf-node-detail lf-node-limit" data-testid={`limit-${id}`} title="Calls allowed in flight now: the adaptive concurrency limit, which follows Lambda's throttling">
          limit {status.concurrencyLimit} in flight
        </div>
      )}
      <div className="lf-node-counters" aria-label="counters">
        <span title="messages received">
          in <b data-testid={`received-${id}`}>{status?.received ?? 0}</b>
        </span>
        <span title="messages emitted">
          out <b data-testid={`emitted-${id}`}>{status?.emitted ?? 0}</b>
        </span>
        <span title="errors" className={status && status.errors > 0 ? 'has-errors' : undefined}>
          err <b data-testid={`errors-${id}`}>{status?.errors ?? 0}</b>
        </span>
        <span className={`lf-badge lf-badge--${state.replace(/\s+/g, '-')}`} data-testid={`status-${id}`}>
          {state}
        </span>
      </div>
      {nodeIssues.length > 0 && (
        <div className="lf-node-issues" role="alert">
          ⚠ {nodeIssues.length === 1 ? '1 problem' : `${nodeIssues.length} problems`}
        </div>
      )}
      {status?.lastError && status.errors > 0 && (
        <div className="lf-node-lasterror" title={status.lastError.message}>
          {status.lastError.code || status.lastError.type}: {status.lastError.message}
        </div>
      )}
      {outputs.map((port, i) => (
        <Handle
          key={`out-${port}`}
          id={port}
          type="source"
          position={Position.Right}
          className={`lf-handle lf-handle--out${port === 'error' ? ' lf-handle--error' : ''}`}
          style={{ top: outTop(i) }}
          aria-label={`${data.name} output ${port}`}
          data-port={port}
        >
          <span className="lf-handle-label lf-handle-label--right">{port}</span>
        </Handle>
      ))}
    </div>
  );
}

export const NodeCard = memo(NodeCardImpl);
