// Catalogue queries of certification types.
import { Query, Resolver } from 'type-graphql';
import {
  certificationTypes,
  findCertificationType,
  type CertificationType as CatalogType,
} from '../domain/certification-types';
import { CertificationType } from './certification-type.type';

function toGraphQL(t: CatalogType): CertificationType {
  return Object.assign(new CertificationType(), t);
}

export function resolveCertificationTypeReference(reference: { code: string }): CertificationType | null {
  const type = findCertificationType(reference.code);
  return type ? toGraphQL(type) : null;
}

@Resolver(() => CertificationType)
export class CertificationTypeResolver {
  @Query(() => [CertificationType], { description: 'The certification types members can apply for.' })
  certificationTypes(): CertificationType[] {
    return certificationTypes.map(toGraphQL);
  }
}
