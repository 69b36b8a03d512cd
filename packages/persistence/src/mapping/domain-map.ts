/**
 * Where each entity's members live in the database, computed once per model: the tables of
 * an entity's hierarchy, the column of each attribute (in the table of the entity that
 * declares it), the foreign-key column of each Reference the entity owns, the join table of
 * each ReferenceSet, and the discriminator of its hierarchy.
 */
import type { Association, Attribute, AttributeKind, CompiledModel, Entity } from '@runplane/model';
import { unknownEntity } from '../errors.js';
import {
  DISCRIMINATOR_COLUMN,
  JOIN_OWNER_COLUMN,
  JOIN_TARGET_COLUMN,
  SYSTEM_COLUMNS,
  attributeColumnName,
  entityTableName,
  joinTableName,
  referenceColumnName,
} from '../schema/names.js';
import { hasDiscriminator, isStored } from '../schema/physical.js';

/** An attribute and its column. */
export interface AttributeMapping {
  readonly name: string;
  readonly attribute: Attribute;
  readonly kind: AttributeKind;
  /** The entity whose table holds the column. */
  readonly owner: string;
  /** The column; undefined for calculated attributes. */
  readonly column: string | undefined;
  /** Enumeration keys, for Enumeration attributes. */
  readonly enumKeys: ReadonlySet<string> | undefined;
  /** Set by the server, never by a user (AutoNumber, createdDate, changedDate, calculated). */
  readonly serverSet: boolean;
}

/** A Reference association (or `System.owner` / `System.changedBy`) held in a column of the owner. */
export interface ReferenceMapping {
  readonly kind: 'reference';
  readonly name: string;
  /** Undefined for the system associations. */
  readonly association: Association | undefined;
  /** The entity whose table holds the column. */
  readonly owner: string;
  readonly column: string;
  readonly target: string;
  /** True for `System.owner` / `System.changedBy`. */
  readonly system: boolean;
}

/** A ReferenceSet association held in a join table. */
export interface ReferenceSetMapping {
  readonly kind: 'referenceSet';
  readonly name: string;
  readonly association: Association;
  readonly table: string;
  /** The column holding this side's ids, and the one holding the other side's. */
  readonly selfColumn: string;
  readonly otherColumn: string;
  readonly target: string;
}

/**
 * An association seen from its target side when the target owns it too (`ownership: both`):
 * a Reference read back through the owner's column, or a ReferenceSet through the join table.
 */
export interface ReverseReferenceMapping {
  readonly kind: 'reverseReference';
  readonly name: string;
  readonly association: Association;
  /** The owner entity (whose table holds the column) and the column. */
  readonly owner: string;
  readonly column: string;
  readonly target: string;
}

/** A member that is an association. */
export type AssociationMapping = ReferenceMapping | ReferenceSetMapping | ReverseReferenceMapping;

/** An entity's storage. */
export interface EntityMapping {
  readonly entity: Entity;
  readonly name: string;
  readonly persistable: boolean;
  /** The hierarchy from its root down to the entity itself. */
  readonly lineage: readonly string[];
  readonly root: string;
  /** Table per entity of the lineage (persistable entities only). */
  readonly tables: ReadonlyMap<string, string>;
  /** The root table's discriminator column, when the hierarchy has one. */
  readonly discriminator: string | undefined;
  /** Every specialisation, transitively, nearest first. */
  readonly descendants: readonly string[];
  /** Every attribute, inherited ones included, by name. */
  readonly attributes: ReadonlyMap<string, AttributeMapping>;
  /** Every association member the entity holds, by qualified name. */
  readonly associations: ReadonlyMap<string, AssociationMapping>;
  /** Attribute and association names, in model order. */
  readonly members: readonly string[];
}

/** The storage of every entity of a model. */
export class DomainMap {
  readonly model: CompiledModel;
  readonly #entities = new Map<string, EntityMapping>();
  /** Entity by element id (the discriminator's values). */
  readonly #byId = new Map<string, string>();
  /** Every association by name, from either end. */
  readonly #incoming = new Map<string, Association[]>();

  constructor(model: CompiledModel) {
    this.model = model;
    for (const entity of model.entities.values()) this.#byId.set(entity.id, entity.name);
    for (const association of model.associations.values()) {
      for (const end of new Set([association.owner, association.target])) {
        this.#incoming.set(end, [...(this.#incoming.get(end) ?? []), association]);
      }
    }
    for (const entity of model.entities.values()) this.#entities.set(entity.name, this.#build(entity));
  }

  /** The mapping of an entity. @throws UserError `UNKNOWN_ENTITY`. */
  entity(name: string): EntityMapping {
    const mapping = this.#entities.get(name);
    if (mapping === undefined) throw unknownEntity(name);
    return mapping;
  }

  /** The mapping of an entity, if the model has it. */
  find(name: string): EntityMapping | undefined {
    return this.#entities.get(name);
  }

  /** The entity whose element id a discriminator holds. */
  entityById(id: string): string | undefined {
    return this.#byId.get(id);
  }

  /** The associations an entity (or one of its generalizations) takes part in, from either end. */
  associationsOf(entity: string): Association[] {
    const mapping = this.entity(entity);
    const seen = new Set<string>();
    const result: Association[] = [];
    for (const name of mapping.lineage) {
      for (const association of this.#incoming.get(name) ?? []) {
        if (seen.has(association.name)) continue;
        seen.add(association.name);
        result.push(association);
      }
    }
    return result;
  }

  #build(entity: Entity): EntityMapping {
    const model = this.model;
    const lineage = [...entity.generalizations].reverse().concat(entity.name);
    const root = lineage[0] ?? entity.name;
    const rootEntity = model.entities.get(root);
    const tables = new Map<string, string>();
    if (entity.persistable) for (const name of lineage) tables.set(name, entityTableName(name));
    const attributes = new Map<string, AttributeMapping>();
    for (const attribute of entity.allAttributes.values()) {
      const enumeration =
        attribute.enumeration === undefined ? undefined : model.enumerations.get(attribute.enumeration);
      const column =
        !entity.persistable || !isStored(attribute)
          ? undefined
          : attribute.system
            ? attribute.name === 'createdDate'
              ? SYSTEM_COLUMNS.createdDate
              : SYSTEM_COLUMNS.changedDate
            : attributeColumnName(attribute.name);
      attributes.set(attribute.name, {
        name: attribute.name,
        attribute,
        kind: attribute.kind,
        owner: attribute.entity,
        column,
        enumKeys: enumeration === undefined ? undefined : new Set(enumeration.values.map((v) => v.key)),
        serverSet:
          attribute.kind === 'AutoNumber' || attribute.system || attribute.calculatedBy !== undefined,
      });
    }
    const associations = new Map<string, AssociationMapping>();
    const lineageSet = new Set(lineage);
    for (const association of model.associations.values()) {
      const ownerSide = lineageSet.has(association.owner);
      const targetSide = lineageSet.has(association.target);
      if (ownerSide) {
        if (association.type === 'Reference') {
          associations.set(association.name, {
            kind: 'reference',
            name: association.name,
            association,
            owner: association.owner,
            column: referenceColumnName(association.name),
            target: association.target,
            system: false,
          });
        } else {
          associations.set(association.name, {
            kind: 'referenceSet',
            name: association.name,
            association,
            table: joinTableName(association.name),
            selfColumn: JOIN_OWNER_COLUMN,
            otherColumn: JOIN_TARGET_COLUMN,
            target: association.target,
          });
        }
      } else if (targetSide && association.ownership === 'both') {
        if (association.type === 'Reference') {
          associations.set(association.name, {
            kind: 'reverseReference',
            name: association.name,
            association,
            owner: association.owner,
            column: referenceColumnName(association.name),
            target: association.owner,
          });
        } else {
          associations.set(association.name, {
            kind: 'referenceSet',
            name: association.name,
            association,
            table: joinTableName(association.name),
            selfColumn: JOIN_TARGET_COLUMN,
            otherColumn: JOIN_OWNER_COLUMN,
            target: association.owner,
          });
        }
      }
    }
    for (const name of lineage) {
      const declaring = model.entities.get(name);
      if (declaring === undefined) continue;
      for (const member of ['owner', 'changedBy'] as const) {
        if (!declaring.system[member]) continue;
        const qualified = `System.${member}`;
        associations.set(qualified, {
          kind: 'reference',
          name: qualified,
          association: undefined,
          owner: name,
          column: SYSTEM_COLUMNS[member],
          target: 'System.User',
          system: true,
        });
      }
    }
    const descendants: string[] = [];
    const queue = [...entity.specializations];
    while (queue.length > 0) {
      const next = queue.shift();
      if (next === undefined) break;
      descendants.push(next);
      queue.push(...(model.entities.get(next)?.specializations ?? []));
    }
    return {
      entity,
      name: entity.name,
      persistable: entity.persistable,
      lineage,
      root,
      tables,
      discriminator:
        rootEntity !== undefined && hasDiscriminator(rootEntity) ? DISCRIMINATOR_COLUMN : undefined,
      descendants,
      attributes,
      associations,
      members: [...attributes.keys(), ...associations.keys()],
    };
  }
}
