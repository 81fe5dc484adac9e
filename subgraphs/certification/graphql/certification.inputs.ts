// Inputs of the certification mutations.
import { Field, ID, InputType } from 'type-graphql';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../../common/idempotency';
import { limits } from '../domain/certification';

@InputType({ description: 'A document supporting an application: what it is and where it can be read.' })
export class CertificationDocumentInput {
  @Field({ description: 'What the document is, e.g. "University transcript".' })
  name!: string;

  @Field({ description: 'Where it can be read (http or https).' })
  url!: string;
}

@InputType({ description: 'An application for a certification: for whom, of which type, with which documents.' })
export class ApplyForCertificationInput {
  @Field(() => ID, { nullable: true, description: 'The applicant: yourself by default; admins may apply for any member.' })
  memberId?: string | null;

  @Field({ description: 'A certification type code (see `certificationTypes`).' })
  certType!: string;

  @Field(() => [CertificationDocumentInput], { description: `Supporting documents: 1 to ${limits.documents}.` })
  documents!: CertificationDocumentInput[];

  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;
}
