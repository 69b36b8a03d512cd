import { beforeAll, describe, expect, it } from 'vitest';
import type { MxObject, RunplaneDatabase, RunplaneUnitOfWork } from '../src/index.js';
import { BACKENDS } from './support/databases.js';
import { SYSTEM_CONTEXT, exampleModel, suiteDatabase } from './support/fixtures.js';

interface HelpdeskData {
  readonly tickets: {
    readonly plain: string;
    readonly bug: string;
    readonly question: string;
    readonly feature: string;
  };
  readonly tags: { readonly urgent: string; readonly billing: string };
  readonly agent: string;
  readonly comment: string;
  readonly attachment: string;
}

async function ticket(
  uow: RunplaneUnitOfWork,
  entity: string,
  subject: string,
  extra: Record<string, unknown> = {},
): Promise<MxObject> {
  const object = await uow.instantiate(entity);
  object.set('Subject', subject);
  object.set('ReporterEmail', 'reporter@example.com');
  for (const [name, value] of Object.entries(extra)) object.set(name, value as never);
  return object;
}

async function seed(db: RunplaneDatabase): Promise<HelpdeskData> {
  return db.transaction(SYSTEM_CONTEXT, async (uow) => {
    const urgent = await uow.instantiate('Helpdesk.Tag');
    urgent.set('Name', 'urgent');
    const billing = await uow.instantiate('Helpdesk.Tag');
    billing.set('Name', 'billing');
    const agent = await uow.instantiate('Helpdesk.Agent');
    agent.set('Name', 'ann');
    agent.set('DisplayName', 'Ann');
    const plain = await ticket(uow, 'Helpdesk.Ticket', 'Printer on fire');
    const bug = await ticket(uow, 'Helpdesk.BugReport', 'Crash on save', { Severity: 5n, Product: 'Editor' });
    const question = await ticket(uow, 'Helpdesk.Question', 'How do I export?', { Topic: 'Export' });
    const feature = await ticket(uow, 'Helpdesk.FeatureRequest', 'Dark mode', { Votes: 42n });
    bug.setReferenceSet('Helpdesk.Ticket_Tag', [urgent.id, billing.id]);
    plain.setReferenceSet('Helpdesk.Ticket_Tag', [urgent.id]);
    bug.setReference('Helpdesk.Ticket_Agent', agent.id);
    question.setReference('Helpdesk.Ticket_Agent', agent.id);
    feature.setReference('Helpdesk.Ticket_DuplicateOf', plain.id);
    const comment = await uow.instantiate('Helpdesk.Comment');
    comment.set('Text', 'Looking into it');
    comment.setReference('Helpdesk.Comment_Ticket', bug.id);
    const attachment = await uow.instantiate('Helpdesk.Attachment');
    attachment.set('Name', 'log.txt');
    attachment.setReference('Helpdesk.Attachment_Ticket', bug.id);
    await uow.commit([urgent, billing, agent, plain, bug, question, feature, comment, attachment]);
    return {
      tickets: { plain: plain.id, bug: bug.id, question: question.id, feature: feature.id },
      tags: { urgent: urgent.id, billing: billing.id },
      agent: agent.id,
      comment: comment.id,
      attachment: attachment.id,
    };
  });
}

async function inRolledBack<T>(
  db: RunplaneDatabase,
  work: (uow: RunplaneUnitOfWork) => Promise<T>,
): Promise<T> {
  const uow = db.unitOfWork(SYSTEM_CONTEXT);
  try {
    return await work(uow);
  } finally {
    await uow.close();
  }
}

describe.each(BACKENDS)('the helpdesk example on %s', (backend) => {
  const suite = suiteDatabase(backend, 'helpdesk', () => exampleModel('helpdesk'));
  let data: HelpdeskData;
  beforeAll(async () => {
    data = await seed(suite.db);
  });

  it('has the schema TypeORM derives from the model’s EntitySchemas, nothing more or less', async () => {
    expect(await suite.db.schemaDrift()).toEqual([]);
  });

  describe('inheritance', () => {
    it('retrieves the specialisations of a generalization, each with its own attributes', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const { objects } = await uow.retrieve({
          entity: 'Helpdesk.Ticket',
          sort: [{ attribute: 'Number', descending: false }],
        });
        expect(objects.map((o) => [o.entity, o.get('Subject')])).toEqual([
          ['Helpdesk.Ticket', 'Printer on fire'],
          ['Helpdesk.BugReport', 'Crash on save'],
          ['Helpdesk.Question', 'How do I export?'],
          ['Helpdesk.FeatureRequest', 'Dark mode'],
        ]);
        const bug = objects.find((o) => o.entity === 'Helpdesk.BugReport');
        expect([bug?.get('Severity'), bug?.get('Product')]).toEqual([5n, 'Editor']);
        expect(objects.find((o) => o.entity === 'Helpdesk.FeatureRequest')?.get('Votes')).toBe(42n);
        expect(objects.map((o) => o.get('Number'))).toEqual([1n, 2n, 3n, 4n]);
      });
    });

    it('retrieves only a specialisation when asked for it, filtering on inherited and own attributes', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const bugs = await uow.retrieve({
          entity: 'Helpdesk.BugReport',
          xpath: "[Severity >= 4 and contains(Subject, 'crash')]",
        });
        expect(bugs.objects.map((o) => o.id)).toEqual([data.tickets.bug]);
        const none = await uow.retrieve({
          entity: 'Helpdesk.Question',
          xpath: "[Subject = 'Crash on save']",
        });
        expect(none.objects).toEqual([]);
      });
    });

    it('counts the specialisations with the generalization', async () => {
      await inRolledBack(suite.db, async (uow) => {
        expect(await uow.aggregate({ entity: 'Helpdesk.Ticket', function: 'count' })).toBe(4n);
        expect(await uow.aggregate({ entity: 'Helpdesk.BugReport', function: 'count' })).toBe(1n);
        expect(await uow.aggregate({ entity: 'System.User', function: 'count' })).toBe(1n);
      });
    });

    it('finds an object by id without being told its entity', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const found = await uow.retrieveByIds([data.tickets.question, data.agent, data.tags.urgent]);
        expect(found.map((o) => o.entity)).toEqual(['Helpdesk.Question', 'Helpdesk.Agent', 'Helpdesk.Tag']);
        expect(found[1]?.get('Name')).toBe('ann');
      });
    });

    it('changes inherited and own attributes of a specialisation in one commit', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [bug] = await uow.retrieveByIds([data.tickets.bug]);
        if (bug === undefined) throw new TypeError('missing');
        bug.set('State', 'Open');
        bug.set('Severity', 3n);
        await uow.commit([bug]);
        const [read] = await uow
          .retrieve({ entity: 'Helpdesk.Ticket', xpath: "[State = 'Open']" })
          .then((r) => r.objects);
        expect([read?.entity, read?.get('Severity')]).toEqual(['Helpdesk.BugReport', 3n]);
      });
    });
  });

  describe('reference sets', () => {
    it('stores a many-to-many association and follows it both ways', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [bug] = await uow.retrieveByIds([data.tickets.bug]);
        if (bug === undefined) throw new TypeError('missing');
        expect(bug.getReferenceSet('Helpdesk.Ticket_Tag')).toEqual(
          [data.tags.urgent, data.tags.billing].sort(),
        );
        const tags = await uow.retrieveByAssociation(bug, 'Helpdesk.Ticket_Tag');
        expect(tags.map((t) => t.get('Name')).sort()).toEqual(['billing', 'urgent']);
        const [urgent] = await uow.retrieveByIds([data.tags.urgent]);
        if (urgent === undefined) throw new TypeError('missing');
        const tickets = await uow.retrieveByAssociation(urgent, 'Helpdesk.Ticket_Tag');
        expect(tickets.map((t) => t.id).sort()).toEqual([data.tickets.plain, data.tickets.bug].sort());
      });
    });

    it('adds and removes members of a reference set on commit', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [bug] = await uow.retrieveByIds([data.tickets.bug]);
        if (bug === undefined) throw new TypeError('missing');
        const docs = await uow.instantiate('Helpdesk.Tag');
        docs.set('Name', 'docs');
        bug.setReferenceSet('Helpdesk.Ticket_Tag', [data.tags.billing, docs.id]);
        await uow.commit([bug]);
        expect(docs.state).toBe('stored');
        const tagged = await uow.retrieve({
          entity: 'Helpdesk.Ticket',
          xpath: "[Helpdesk.Ticket_Tag/Helpdesk.Tag/Name = 'docs']",
        });
        expect(tagged.objects.map((t) => t.id)).toEqual([data.tickets.bug]);
        const urgent = await uow.retrieve({
          entity: 'Helpdesk.Ticket',
          xpath: "[Helpdesk.Ticket_Tag/Helpdesk.Tag/Name = 'urgent']",
        });
        expect(urgent.objects.map((t) => t.id)).toEqual([data.tickets.plain]);
      });
    });

    it('keeps the tickets of a deleted tag and drops the tag from their sets', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [bug, urgent] = await uow.retrieveByIds([data.tickets.bug, data.tags.urgent]);
        if (bug === undefined || urgent === undefined) throw new TypeError('missing');
        await uow.delete([urgent]);
        expect(bug.getReferenceSet('Helpdesk.Ticket_Tag')).toEqual([data.tags.billing]);
        const untagged = await uow.retrieve({
          entity: 'Helpdesk.Ticket',
          xpath: '[not(Helpdesk.Ticket_Tag/Helpdesk.Tag)]',
        });
        expect(untagged.objects.map((t) => t.id).sort()).toEqual(
          [data.tickets.plain, data.tickets.question, data.tickets.feature].sort(),
        );
      });
    });
  });

  describe('delete behaviour', () => {
    it('deletes the comments and attachments of a deleted ticket, and keeps its agent and tags', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [bug] = await uow.retrieveByIds([data.tickets.bug]);
        if (bug === undefined) throw new TypeError('missing');
        await uow.delete([bug]);
        expect(await uow.retrieveByIds([data.comment, data.attachment, data.tickets.bug])).toEqual([]);
        expect(await uow.retrieveByIds([data.agent, data.tags.urgent, data.tags.billing])).toHaveLength(3);
      });
    });

    it('clears the references to a deleted agent and keeps the tickets', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [question, agent] = await uow.retrieveByIds([data.tickets.question, data.agent]);
        if (question === undefined || agent === undefined) throw new TypeError('missing');
        await uow.delete([agent]);
        expect(question.getReference('Helpdesk.Ticket_Agent')).toBeNull();
        const assigned = await uow.retrieve({
          entity: 'Helpdesk.Ticket',
          xpath: '[Helpdesk.Ticket_Agent/Helpdesk.Agent]',
        });
        expect(assigned.objects).toEqual([]);
        expect(await uow.aggregate({ entity: 'Helpdesk.Ticket', function: 'count' })).toBe(4n);
      });
    });

    it('clears a self-reference when its target goes', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [plain] = await uow.retrieveByIds([data.tickets.plain]);
        if (plain === undefined) throw new TypeError('missing');
        await uow.delete([plain]);
        const [feature] = await uow.retrieveByIds([data.tickets.feature]);
        expect(feature?.getReference('Helpdesk.Ticket_DuplicateOf')).toBeNull();
      });
    });
  });

  it('keeps non-persistable objects in memory: commit keeps their values for a rollback', async () => {
    await inRolledBack(suite.db, async (uow) => {
      const form = await uow.instantiate('Helpdesk.SubmitForm');
      form.set('Subject', 'first');
      await uow.commit([form]);
      form.set('Subject', 'second');
      await uow.rollback([form]);
      expect([form.state, form.get('Subject')]).toEqual(['new', 'first']);
      expect(uow.find(form.id)).toBe(form);
    });
  });
});
