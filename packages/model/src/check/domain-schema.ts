import type {
  AssociationInfo,
  AttributeInfo,
  DomainSchema,
  EntityInfo,
  EnumerationInfo,
  MxType,
} from '../languages.js';
import type { Association, Entity, Enumeration } from '../compiled/types.js';

/** The System associations every entity with the matching system member has. */
const SYSTEM_ASSOCIATIONS = [
  ['owner', 'System.owner'],
  ['changedBy', 'System.changedBy'],
] as const;

/**
 * The domain model as the expression and XPath checkers see it: entities with their
 * inherited attributes and associations, enumerations, constants and user roles.
 */
export class ModelDomainSchema implements DomainSchema {
  readonly #entities: ReadonlyMap<string, Entity>;
  readonly #enumerations: ReadonlyMap<string, Enumeration>;
  readonly #constants: ReadonlyMap<string, MxType>;
  readonly #userRoles: ReadonlySet<string>;
  readonly #infos = new Map<string, EntityInfo>();
  readonly #associationsByEntity = new Map<string, Map<string, AssociationInfo>>();

  constructor(init: {
    entities: ReadonlyMap<string, Entity>;
    associations: ReadonlyMap<string, Association>;
    enumerations: ReadonlyMap<string, Enumeration>;
    constants: ReadonlyMap<string, MxType>;
    userRoles: ReadonlySet<string>;
  }) {
    this.#entities = init.entities;
    this.#enumerations = init.enumerations;
    this.#constants = init.constants;
    this.#userRoles = init.userRoles;
    for (const association of init.associations.values()) {
      const info: AssociationInfo = {
        name: association.name,
        type: association.type,
        owner: association.owner,
        target: association.target,
      };
      for (const end of new Set([association.owner, association.target])) {
        this.#add(end, info);
      }
    }
    for (const entity of init.entities.values()) {
      for (const [member, name] of SYSTEM_ASSOCIATIONS) {
        if (entity.system[member]) {
          this.#add(entity.name, { name, type: 'Reference', owner: entity.name, target: 'System.User' });
        }
      }
    }
  }

  #add(entity: string, info: AssociationInfo): void {
    let map = this.#associationsByEntity.get(entity);
    if (map === undefined) {
      map = new Map();
      this.#associationsByEntity.set(entity, map);
    }
    map.set(info.name, info);
  }

  /** Associations the entity takes part in, its generalizations' included. */
  associationsOf(entityName: string): AssociationInfo[] {
    const entity = this.#entities.get(entityName);
    if (entity === undefined) return [];
    const result = new Map<string, AssociationInfo>();
    for (const name of [entityName, ...entity.generalizations]) {
      for (const info of this.#associationsByEntity.get(name)?.values() ?? []) {
        if (!result.has(info.name)) result.set(info.name, info);
      }
    }
    return [...result.values()];
  }

  entity(qualifiedName: string): EntityInfo | undefined {
    const cached = this.#infos.get(qualifiedName);
    if (cached !== undefined) return cached;
    const entity = this.#entities.get(qualifiedName);
    if (entity === undefined) return undefined;
    const attributes = new Map<string, AttributeInfo>();
    for (const attribute of entity.allAttributes.values()) {
      const computed = attribute.calculatedBy !== undefined;
      attributes.set(attribute.name, {
        name: attribute.name,
        type: attribute.type,
        modelType: attribute.kind,
        filterable: !computed && attribute.kind !== 'HashedString' && attribute.kind !== 'Binary',
        sortable: !computed && attribute.kind !== 'HashedString' && attribute.kind !== 'Binary',
      });
    }
    const associations = new Map(this.associationsOf(qualifiedName).map((a) => [a.name, a]));
    const lineage = new Set([qualifiedName, ...entity.generalizations]);
    const info: EntityInfo = {
      name: entity.name,
      persistable: entity.persistable,
      generalization: entity.generalization,
      attribute: (name) => attributes.get(name),
      association: (name) => associations.get(name),
      isA: (other) => lineage.has(other),
    };
    this.#infos.set(qualifiedName, info);
    return info;
  }

  enumeration(qualifiedName: string): EnumerationInfo | undefined {
    const enumeration = this.#enumerations.get(qualifiedName);
    return enumeration === undefined ? undefined : { name: enumeration.name, values: enumeration.values };
  }

  constant(qualifiedName: string): MxType | undefined {
    return this.#constants.get(qualifiedName);
  }

  userRole(name: string): boolean {
    return this.#userRoles.has(name);
  }
}
