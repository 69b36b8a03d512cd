import { describe, expect, it } from 'vitest';
import { loadErrors, loadValid, where } from '../testing/helpers.js';

const DOMAIN = `module: Shop
moduleRoles: [User]
enumerations:
  Status: { values: { Open: Open, Done: Done } }
entities:
  Customer: { attributes: { Name: String } }
  Order:
    attributes:
      Number: AutoNumber
      Status: { type: Enumeration, enumeration: Status }
      Note: String
      Paid: Boolean
  Line: { attributes: { Quantity: Integer } }
  Photo: { generalization: System.Image }
associations:
  Order_Customer: { owner: Order, target: Customer }
  Line_Order: { owner: Line, target: Order }
microflows:
  Approve:
    parameters: { Order: Order }
    start: done
    nodes: { done: { kind: end } }
  Count:
    parameters: { Amount: Integer }
    start: done
    nodes: { done: { kind: end } }
`;

function withPages(pages: string): Record<string, string> {
  return { 'Shop/domain.yaml': DOMAIN, 'Shop/pages.yaml': `module: Shop\npages:\n${pages}` };
}

describe('pages', () => {
  it('compile data views, grids, inputs and buttons with their context', () => {
    const model = loadValid(
      withPages(`  Overview:
    title: Orders
    allowedRoles: [User]
    widgets:
      - kind: dataGrid
        name: grid
        entity: Order
        xpath: "[Status = 'Open']"
        sort: { Number: desc }
        columns: [Number, { attribute: Shop.Order_Customer/Shop.Customer/Name, caption: Customer }]
        search: [Note]
        buttons: [{ kind: button, caption: Open, action: { page: Edit } }]
      - kind: dataView
        listenTo: grid
        widgets:
          - { kind: textArea, attribute: Note }
          - { kind: checkBox, attribute: Paid }
          - { kind: dropDown, attribute: Status }
          - { kind: textBox, attribute: Number }
          - kind: listView
            association: Line_Order
            widgets: [{ kind: text, template: '{1}', parameters: ['toString($currentObject/Quantity)'] }]
        footer:
          - { kind: button, caption: Save, action: save }
          - { kind: button, caption: Approve, action: { microflow: Approve } }
  Edit:
    parameters: { Order: Order }
    widgets:
      - { kind: dataView, parameter: Order, widgets: [{ kind: textBox, attribute: Note }] }
`),
    );
    const page = model.pages.get('Shop.Overview');
    expect(page?.title).toBe('Orders');
    expect(page?.allowedRoles).toEqual(['Shop.User']);
    const [grid, view] = page?.widgets ?? [];
    expect(
      grid?.kind === 'dataGrid' &&
        grid.columns.map((c) => [c.path.attribute, c.path.associations, c.caption]),
    ).toEqual([
      ['Number', [], 'Number'],
      ['Name', ['Shop.Order_Customer'], 'Customer'],
    ]);
    expect(grid?.kind === 'dataGrid' && grid.source.kind === 'database' && grid.source.xpath?.source).toBe(
      "[Status = 'Open']",
    );
    const open = grid?.kind === 'dataGrid' ? grid.buttons[0] : undefined;
    expect(
      open?.kind === 'button' && open.action.kind === 'openPage' && Object.fromEntries(open.action.arguments),
    ).toEqual({
      Order: { kind: 'container', widget: 'grid' },
    });
    expect(view).toMatchObject({
      kind: 'dataView',
      entity: 'Shop.Order',
      source: { kind: 'listenTo', widget: 'grid' },
    });
    const inputs = view?.kind === 'dataView' ? view.widgets : [];
    expect(inputs.find((w) => w.kind === 'textBox')).toMatchObject({ attribute: 'Number', editable: false });
    expect(inputs.find((w) => w.kind === 'textArea')).toMatchObject({ attribute: 'Note', editable: true });
    expect(inputs.find((w) => w.kind === 'listView')).toMatchObject({
      entity: 'Shop.Line',
      source: { kind: 'association', association: 'Shop.Line_Order' },
    });
  });

  it('report an input outside any data container, and an attribute the context entity lacks', () => {
    const files = withPages(`  P:
    widgets:
      - { kind: textBox, attribute: Note }
      - kind: dataView
        microflow: Nope
      - kind: listView
        entity: Order
        widgets: [{ kind: textBox, attribute: Nte }]
`);
    const text = files['Shop/pages.yaml'] ?? '';
    const errors = loadErrors(files);
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_INVALID_WIDGET', 'Shop/pages/P/widgets/0/kind'],
      ['MODEL_UNKNOWN_MICROFLOW', 'Shop/pages/P/widgets/1/microflow'],
      ['MODEL_UNKNOWN_ATTRIBUTE', 'Shop/pages/P/widgets/2/widgets/0/attribute'],
    ]);
    expect(errors[2]).toMatchObject(where(text, 'Nte'));
  });

  it('report a widget that does not fit its attribute type and a button the context cannot supply', () => {
    const files = withPages(`  P:
    widgets:
      - kind: listView
        entity: Line
        widgets:
          - { kind: checkBox, attribute: Quantity }
          - { kind: button, caption: Go, action: { microflow: Approve } }
          - { kind: button, caption: Count, action: { microflow: Count } }
          - { kind: button, caption: Save, action: save }
`);
    const errors = loadErrors(files);
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_INVALID_WIDGET', 'Shop/pages/P/widgets/0/widgets/0/attribute'],
      ['MODEL_INVALID_ARGUMENTS', 'Shop/pages/P/widgets/0/widgets/1/action/microflow'],
      ['MODEL_INVALID_ARGUMENTS', 'Shop/pages/P/widgets/0/widgets/2/action/microflow'],
      ['MODEL_INVALID_WIDGET', 'Shop/pages/P/widgets/0/widgets/3/action'],
    ]);
  });

  it('report an unknown page in a button, a bad column path, an unknown listenTo and a visible expression that is not Boolean', () => {
    const files = withPages(`  P:
    widgets:
      - kind: dataGrid
        entity: Order
        columns: [Shop.Order_Customer/Shop.Customer/Nmae]
      - { kind: dataView, listenTo: nothing }
      - { kind: button, caption: Go, action: { page: Missing } }
      - { kind: text, template: hi, visible: "'yes'" }
`);
    const errors = loadErrors(files);
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_UNKNOWN_ATTRIBUTE', 'Shop/pages/P/widgets/0/columns/0'],
      ['MODEL_UNKNOWN_WIDGET', 'Shop/pages/P/widgets/1/listenTo'],
      ['MODEL_UNKNOWN_PAGE', 'Shop/pages/P/widgets/2/action/page'],
      ['EXPR_TYPE_MISMATCH', 'Shop/pages/P/widgets/3/visible'],
    ]);
  });

  it('require a FileDocument for a file uploader and an Image for an image viewer', () => {
    const ok = loadValid(
      withPages(`  P:
    parameters: { Photo: Photo }
    widgets:
      - kind: dataView
        parameter: Photo
        widgets: [{ kind: fileUploader }, { kind: imageViewer, width: 200 }]
`),
    );
    expect(ok.pages.get('Shop.P')?.widgets[0]?.kind).toBe('dataView');
    const files = withPages(`  P:
    parameters: { Order: Order }
    widgets:
      - { kind: dataView, parameter: Order, widgets: [{ kind: imageViewer }] }
`);
    expect(loadErrors(files)[0]).toMatchObject({
      code: 'MODEL_INVALID_WIDGET',
      path: 'Shop/pages/P/widgets/0/widgets/0/kind',
    });
  });

  it('check reference selectors: a reference the context owns, and the display attribute', () => {
    const files = withPages(`  P:
    parameters: { Order: Order, Customer: Customer }
    widgets:
      - kind: dataView
        parameter: Order
        widgets: [{ kind: referenceSelector, association: Order_Customer, display: Nam }]
      - kind: dataView
        parameter: Customer
        widgets: [{ kind: referenceSelector, association: Order_Customer, display: Name }]
`);
    const errors = loadErrors(files);
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_UNKNOWN_ATTRIBUTE', 'Shop/pages/P/widgets/0/widgets/0/display'],
      ['MODEL_INVALID_WIDGET', 'Shop/pages/P/widgets/1/widgets/0/association'],
    ]);
  });
});
