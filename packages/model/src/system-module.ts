/**
 * The built-in System module, written in the model format itself and loaded like any
 * other module. Like Mendix's System module it holds users, sessions, files, images,
 * scheduled-event and task-queue records, and the non-persistable HTTP and error
 * objects microflows see.
 */

/** The file name System module errors would carry (there should be none). */
export const SYSTEM_MODULE_FILE = '<builtin>/System.yaml';

/** Entities of the System module that apps may specialise. */
export const SPECIALISABLE_SYSTEM_ENTITIES: readonly string[] = [
  'System.User',
  'System.FileDocument',
  'System.Image',
];

/** The System module's source. */
export const SYSTEM_MODULE_YAML = `module: System
documentation: Built-in module.
moduleRoles: [Administrator, User]
enumerations:
  EventStatus:
    values: { Running: Running, Completed: Completed, Error: Error, Stopped: Stopped }
  QueueTaskStatus:
    values: { Idle: Idle, Running: Running, Completed: Completed, Failed: Failed, Retrying: Retrying, Aborted: Aborted, Incompatible: Incompatible }
  DeviceType:
    values: { Phone: Phone, Tablet: Tablet, Desktop: Desktop }
entities:
  User:
    documentation: A user of the app. Specialise it to add attributes to users.
    system: { createdDate: true, changedDate: true }
    attributes:
      Name: { type: String, length: 100 }
      Password: HashedString
      LastLogin: DateTime
      Blocked: Boolean
      BlockedSince: DateTime
      Active: { type: Boolean, default: true }
      FailedLogins: Integer
      WebServiceUser: Boolean
      IsAnonymous: Boolean
    validation:
      - { rule: unique, attribute: Name, message: A user with this name already exists. }
  UserRole:
    attributes:
      ModelGUID: { type: String, length: 36 }
      Name: { type: String, length: 100 }
      Description: { type: String, length: 1000 }
  Session:
    system: { createdDate: true }
    attributes:
      SessionId: { type: String, length: 64 }
      CSRFToken: { type: String, length: 64 }
      LastActive: DateTime
      DeviceType: { type: Enumeration, enumeration: DeviceType }
    validation:
      - { rule: unique, attribute: SessionId, message: The session id is taken. }
  FileDocument:
    documentation: A file whose contents live in file storage. Specialise it for files of your own.
    system: { createdDate: true, changedDate: true, owner: true }
    attributes:
      FileID: AutoNumber
      Name: { type: String, length: 400 }
      DeleteAfterDownload: Boolean
      Contents: Binary
      HasContents: Boolean
      Size: { type: Long, default: -1 }
  Image:
    documentation: A file checked to be an image, with a thumbnail.
    generalization: FileDocument
    attributes:
      PublicThumbnailPath: { type: String, length: 400 }
      EnableCaching: { type: Boolean, default: true }
  ScheduledEventInformation:
    attributes:
      Name: { type: String, length: 200 }
      Description: { type: String, length: 200 }
      StartTime: DateTime
      EndTime: DateTime
      Status: { type: Enumeration, enumeration: EventStatus }
  QueuedTask:
    attributes:
      Sequence: AutoNumber
      Status: { type: Enumeration, enumeration: QueueTaskStatus, default: Idle }
      QueueName: { type: String, length: 200 }
      MicroflowName: { type: String, length: 200 }
      ActionName: { type: String, length: 200 }
      Arguments: { type: String, length: unlimited }
      ContextData: { type: String, length: unlimited }
      XASId: { type: String, length: 50 }
      ThreadId: Long
      Created: DateTime
      StartAt: DateTime
      Started: DateTime
      Retried: Long
      ScheduledEventName: { type: String, length: 200 }
      UserName: { type: String, length: 100 }
      IdempotencyKey:
        type: String
        length: 64
        documentation: A hash of the key a task was queued with, to find it again; empty without one.
    indexes:
      - { attributes: { QueueName: asc, Status: asc, Sequence: asc } }
      - { attributes: { Sequence: asc } }
      - { attributes: { IdempotencyKey: asc } }
  ProcessedQueueTask:
    attributes:
      Sequence: Long
      Status: { type: Enumeration, enumeration: QueueTaskStatus }
      QueueName: { type: String, length: 200 }
      MicroflowName: { type: String, length: 200 }
      ActionName: { type: String, length: 200 }
      Arguments: { type: String, length: unlimited }
      XASId: { type: String, length: 50 }
      ThreadId: Long
      Created: DateTime
      StartAt: DateTime
      Started: DateTime
      Finished: DateTime
      Duration: Long
      Retried: Long
      ErrorMessage: { type: String, length: unlimited }
      ScheduledEventName: { type: String, length: 200 }
      UserName: { type: String, length: 100 }
      IdempotencyKey: { type: String, length: 64 }
    indexes:
      - { attributes: { Sequence: asc } }
      - { attributes: { IdempotencyKey: asc } }
      - { attributes: { ScheduledEventName: asc, StartAt: asc } }
  XASInstance:
    documentation: A running node of the cluster and its last heartbeat.
    attributes:
      XASId: { type: String, length: 50 }
      LastUpdate: DateTime
    validation:
      - { rule: unique, attribute: XASId, message: The node id is taken. }
  Error:
    documentation: The error being handled in an error flow ($latestError).
    persistable: false
    attributes:
      ErrorType: { type: String, length: 200 }
      Message: { type: String, length: unlimited }
      Stacktrace: { type: String, length: unlimited }
  HttpMessage:
    persistable: false
    attributes:
      HttpVersion: { type: String, length: 20 }
      Content: { type: String, length: unlimited }
  HttpRequest:
    persistable: false
    generalization: HttpMessage
    attributes:
      Uri: { type: String, length: unlimited }
  HttpResponse:
    persistable: false
    generalization: HttpMessage
    attributes:
      StatusCode: Integer
      ReasonPhrase: { type: String, length: 200 }
  HttpHeader:
    persistable: false
    attributes:
      Key: { type: String, length: 200 }
      Value: { type: String, length: unlimited }
associations:
  UserRoles:
    type: ReferenceSet
    owner: User
    target: UserRole
  Session_User:
    owner: Session
    target: User
    deleteBehavior: { target: deleteOwners }
  HttpHeaders:
    owner: HttpHeader
    target: HttpMessage
    deleteBehavior: { target: deleteOwners }
`;
