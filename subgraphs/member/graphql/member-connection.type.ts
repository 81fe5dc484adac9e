// The member subgraph's connections: members (search) and the lists the consumers keep per member.
import { ObjectType } from 'type-graphql';
import { ConnectionOf } from '../../common/connection';
import { AuditEntry, SentEmail } from './member-effects.type';
import { Member } from './member.type';

@ObjectType({ description: 'A page of members, by last name, first name and id.' })
export class MemberConnection extends ConnectionOf(Member, 'Member', 'member') {}

@ObjectType({ description: "A page of a member's audit trail, oldest change first." })
export class AuditEntryConnection extends ConnectionOf(AuditEntry, 'AuditEntry', 'audit entry') {}

@ObjectType({ description: 'A page of confirmation emails, in the order of the changes they confirm.' })
export class SentEmailConnection extends ConnectionOf(SentEmail, 'SentEmail', 'email') {}
