// The sidebar's reminder of the designer's keys.

export function KeysHelp() {
  return (
    <section className="lf-section lf-help" aria-label="Keyboard">
      <h2 className="lf-section-title">Keys</h2>
      <dl className="lf-keys">
        <dt>Ctrl+Z / Ctrl+Shift+Z</dt>
        <dd>undo / redo</dd>
        <dt>Delete</dt>
        <dd>remove selection</dd>
        <dt>Shift/Ctrl+click</dt>
        <dd>multi-select</dd>
        <dt>F2</dt>
        <dd>rename node</dd>
        <dt>Ctrl+S</dt>
        <dd>save</dd>
        <dt>Ctrl+A / C / V / D</dt>
        <dd>select all / copy / paste / duplicate</dd>
      </dl>
    </section>
  );
}
