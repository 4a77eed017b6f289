// The property sheet (Fiorano's CPS): an rjsf form rendered from the component's JSON Schema and
// uiSchema as served by the API, with the Lambda pickers, secret fields, the server's validation
// errors on their fields, and a Test button running the component on one message.
import Form from '@rjsf/core';
import { getDefaultFormState, type RegistryWidgetsType, type RJSFSchema, type UiSchema, type ValidatorType } from '@rjsf/utils';
import { customizeValidator } from '@rjsf/validator-ajv8';
import Ajv2020 from 'ajv/dist/2020';
import { Fragment, useMemo, useState } from 'react';
import { ApiError, api, describeError } from '../api/client';
import type { ComponentAction, ComponentDescriptor, JsonObject, Message, TestResponse } from '../api/types';
import { capabilitiesOf } from '../lib/capabilities';
import { errorSchemaFor, issuesFromDetails, type NodeIssue } from '../lib/issues';
import { checkJson, isJsonContentType } from '../lib/message';
import { parsePointer } from '../lib/pointer';
import { dropHiddenFields, writeOnlyPointers } from '../lib/schema';
import { applyEdit, fieldTitles, formSchema } from '../lib/sheetData';
import { MessageView } from './MessageView';
import { GroupedObjectTemplate } from './sheet/GroupedObjectTemplate';
import { ActionPickerWidget } from './widgets/ActionPickerWidget';
import { SecretWidget } from './widgets/SecretWidget';
import { ID_PREFIX, ID_SEPARATOR, widgetIdFromPointer, type SheetContext } from './widgets/sheetContext';

export const widgets: RegistryWidgetsType = {
  actionPicker: ActionPickerWidget,
  // the names the LambdaConnector's uiSchema has used for its function and qualifier pickers
  lambdaFunction: ActionPickerWidget,
  lambdaQualifier: ActionPickerWidget,
  password: SecretWidget,
  PasswordWidget: SecretWidget,
};

const templates = { ObjectFieldTemplate: GroupedObjectTemplate };

const validators = new Map<string, ValidatorType>();

/** One validator per component type: the schemas are JSON Schema 2020-12. */
export function validatorFor(type: string): ValidatorType {
  let v = validators.get(type);
  if (!v) {
    v = customizeValidator({ AjvClass: Ajv2020 as unknown as NonNullable<Parameters<typeof customizeValidator>[0]>['AjvClass'] });
    validators.set(type, v);
  }
  return v;
}

/**
 * Adds `ui:widget: password` to write-only fields, and `ui:widget: actionPicker` to the fields a
 * component action lists values for, where the uiSchema does not already render them specially.
 */
export function withSecretWidgets(schema: JsonObject, uiSchema: JsonObject, actions: readonly ComponentAction[] = []): UiSchema {
  const ui: Record<string, unknown> = structuredClone(uiSchema ?? {});
  const mark = (ptr: string, widget: string) => {
    let cur = ui;
    for (const t of parsePointer(ptr)) {
      const next = cur[t];
      cur = (next && typeof next === 'object' ? next : (cur[t] = {})) as Record<string, unknown>;
    }
    if (cur['ui:widget'] === undefined) cur['ui:widget'] = widget;
  };
  for (const ptr of writeOnlyPointers(schema)) mark(ptr, 'password');
  for (const a of actions) mark(a.field, 'actionPicker');
  return ui as UiSchema;
}

interface PropertySheetProps {
  descriptor: ComponentDescriptor;
  nodeId: string;
  flowId?: string;
  config: JsonObject;
  secretsSet: string[];
  secretsClear: string[];
  issues: NodeIssue[];
  disabled?: boolean;
  onChange: (config: JsonObject) => void;
  onClearSecret: (pointer: string, clear: boolean) => void;
}

export function PropertySheet(props: PropertySheetProps) {
  const { descriptor, nodeId, flowId, config, secretsSet, secretsClear, issues, disabled, onChange, onClearSecret } = props;
  const uiSchema = useMemo(() => withSecretWidgets(descriptor.schema, descriptor.uiSchema, descriptor.actions), [descriptor]);
  const schema = useMemo(() => formSchema(descriptor.schema) as RJSFSchema, [descriptor]);
  const [testIssues, setTestIssues] = useState<NodeIssue[]>([]);
  const allIssues = useMemo(() => [...issues, ...testIssues], [issues, testIssues]);
  const extraErrors = useMemo(() => errorSchemaFor(allIssues), [allIssues]);
  const formContext: SheetContext = { componentType: descriptor.type, actions: descriptor.actions ?? [], config, secretsSet, secretsClear, onClearSecret, nodeId };
  if (flowId) formContext.flowId = flowId;

  const focusField = (pointer: string) => {
    const el = document.getElementById(widgetIdFromPointer(pointer));
    // a field inside a closed group: open the groups around it first
    for (let d = el?.closest('details'); d; d = d.parentElement?.closest('details')) d.open = true;
    el?.focus();
  };

  return (
    <div className="lf-sheet">
      {allIssues.length > 0 && (
        <div className="lf-callout lf-callout--error" role="alert" data-testid="sheet-issues">
          <strong>{allIssues.length === 1 ? 'The server found a problem' : `The server found ${allIssues.length} problems`}</strong>
          <ul>
            {allIssues.map((i, n) => (
              <li key={n}>
                {i.inConfig ? (
                  <button type="button" className="lf-link" onClick={() => focusField(i.pointer)}>
                    {fieldTitles(schema as JsonObject, i.pointer)}
                  </button>
                ) : (
                  <span>node</span>
                )}
                : {i.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <TestPanel
        descriptor={descriptor}
        config={config}
        nodeId={nodeId}
        flowId={flowId}
        onIssues={(details) => {
          const mapped = issuesFromDetails(details, { nodes: [{ id: nodeId, type: descriptor.type, name: nodeId, position: { x: 0, y: 0 }, config }], edges: [] }, { config: nodeId });
          setTestIssues(mapped.byNode[nodeId] ?? []);
        }}
      />
      <Form
        key={`${nodeId}:${descriptor.type}`}
        className="lf-form"
        schema={schema}
        uiSchema={uiSchema}
        formData={config}
        validator={validatorFor(descriptor.type)}
        widgets={widgets}
        templates={templates}
        formContext={formContext}
        idPrefix={ID_PREFIX}
        idSeparator={ID_SEPARATOR}
        extraErrors={extraErrors}
        liveValidate="onChange"
        showErrorList={false}
        noHtml5Validate
        disabled={disabled}
        onChange={(e, fieldId) => {
          // rjsf also reports data it derived itself (schema defaults) with no field behind it;
          // only a user's edit changes the flow, so opening a sheet never makes it "unsaved".
          if (fieldId === undefined) return;
          setTestIssues([]);
          // only what the user changed is written: the server applies the defaults the form shows
          const validator = validatorFor(descriptor.type);
          const shown = (getDefaultFormState(validator, schema, config, schema) ?? {}) as JsonObject;
          const next = applyEdit(schema as JsonObject, config, shown, (e.formData ?? {}) as JsonObject);
          onChange(dropHiddenFields(validator, schema, next));
        }}
      >
        <Fragment />
      </Form>
    </div>
  );
}

interface TestPanelProps {
  descriptor: ComponentDescriptor;
  config: JsonObject;
  nodeId: string;
  flowId: string | undefined;
  onIssues: (details: ApiError['details']) => void;
}

function TestPanel({ descriptor, config, nodeId, flowId, onIssues }: TestPanelProps) {
  // a component that calls a service is tested first thing: its Test opens with the sheet
  const [open, setOpen] = useState(capabilitiesOf(descriptor).invokes);
  const [body, setBody] = useState('{"name": "World"}');
  const [contentType, setContentType] = useState('application/json');
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<TestResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const jsonProblem = isJsonContentType(contentType) ? checkJson(body) : null;

  const run = async () => {
    setRunning(true);
    setError(null);
    setResult(null);
    onIssues([]);
    const message: Message = { body, bodyEncoding: 'utf8', contentType, properties: {} };
    const req: { config: JsonObject; message: Message; flow?: string; node?: string } = { config, message };
    // flow and node go together: they let the server use the secrets it stores for this node
    if (flowId) {
      req.flow = flowId;
      req.node = nodeId;
    }
    try {
      setResult(await api.testComponent(descriptor.type, req));
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        onIssues(e.details);
        setError(`${e.message} — see the marked fields.`);
      } else setError(describeError(e));
    } finally {
      setRunning(false);
    }
  };

  return (
    <section className="lf-test" aria-label="Test">
      <button type="button" className="lf-disclosure" aria-expanded={open} onClick={() => setOpen((v) => !v)} data-testid="test-toggle">
        <span aria-hidden="true">{open ? '▾' : '▸'}</span> Test this component
      </button>
      {open && (
        <div className="lf-test-body">
          <label className="lf-field lf-test-message">
            <span className="lf-sr">Body</span>
            <textarea className={`lf-input lf-code-input${jsonProblem ? ' is-invalid' : ''}`} rows={2} value={body} onChange={(e) => setBody(e.target.value)} spellCheck={false} data-testid="test-body" title={`Runs this ${descriptor.title} once, with the configuration below, on this message. The flow need not be saved or running.`} />
          </label>
          {jsonProblem && <p className="lf-note lf-note--error">Not valid JSON: {jsonProblem.message}</p>}
          <div className="lf-row">
            <button type="button" className="lf-btn lf-btn--primary" onClick={run} disabled={running || Boolean(jsonProblem)} data-testid="test-run">
              {running ? 'Testing…' : 'Test'}
            </button>
            <label className="lf-small lf-muted">
              content type{' '}
              <input className="lf-input lf-input--small lf-mono" value={contentType} onChange={(e) => setContentType(e.target.value)} list="lf-content-types" size={16} />
            </label>
            {result && <span className="lf-muted">took {result.durationMs} ms</span>}
          </div>
          {error && (
            <p className="lf-note lf-note--error" role="alert">
              {error}
            </p>
          )}
          {result && (
            <div className="lf-test-results" data-testid="test-results">
              <h4>
                out <span className="lf-count">{result.out.length}</span>
              </h4>
              {result.out.length === 0 ? <p className="lf-note">Nothing reached out.</p> : result.out.map((m, i) => <MessageView key={`o${i}`} message={m} />)}
              <h4 className="lf-error-text">
                error <span className="lf-count">{result.error.length}</span>
              </h4>
              {result.error.length === 0 ? <p className="lf-note">Nothing reached error.</p> : result.error.map((m, i) => <MessageView key={`e${i}`} message={m} />)}
            </div>
          )}
        </div>
      )}
    </section>
  );
}
