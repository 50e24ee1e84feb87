// The ACL APIs: DescribeAcls (29), CreateAcls (30), DeleteAcls (31), from Kafka's message
// definitions. v1 adds the pattern type (KIP-290; v0 is LITERAL), v2+ is flexible.
import { array, f, message } from '../schema.js';

/** Kafka's PatternType LITERAL: what a v0 request means and a v0 answer implies. */
const LITERAL = 3;

const filterFields = [
  f('ResourceTypeFilter', 'int8', '0+'),
  f('ResourceNameFilter', 'string', '0+', { nullable: '0+' }),
  f('PatternTypeFilter', 'int8', '1+', { default: LITERAL }),
  f('PrincipalFilter', 'string', '0+', { nullable: '0+' }),
  f('HostFilter', 'string', '0+', { nullable: '0+' }),
  f('Operation', 'int8', '0+'),
  f('PermissionType', 'int8', '0+'),
];

export const DescribeAclsRequest = message('DescribeAclsRequest', 29, '0-3', '2+', filterFields);

export const DescribeAclsResponse = message('DescribeAclsResponse', 29, '0-3', '2+', [
  f('ThrottleTimeMs', 'int32', '0+'),
  f('ErrorCode', 'int16', '0+'),
  f('ErrorMessage', 'string', '0+', { nullable: '0+' }),
  f(
    'Resources',
    array([
      f('ResourceType', 'int8', '0+'),
      f('ResourceName', 'string', '0+'),
      f('PatternType', 'int8', '1+', { default: LITERAL }),
      f(
        'Acls',
        array([
          f('Principal', 'string', '0+'),
          f('Host', 'string', '0+'),
          f('Operation', 'int8', '0+'),
          f('PermissionType', 'int8', '0+'),
        ]),
        '0+',
      ),
    ]),
    '0+',
  ),
]);

export const CreateAclsRequest = message('CreateAclsRequest', 30, '0-3', '2+', [
  f(
    'Creations',
    array([
      f('ResourceType', 'int8', '0+'),
      f('ResourceName', 'string', '0+'),
      f('ResourcePatternType', 'int8', '1+', { default: LITERAL }),
      f('Principal', 'string', '0+'),
      f('Host', 'string', '0+'),
      f('Operation', 'int8', '0+'),
      f('PermissionType', 'int8', '0+'),
    ]),
    '0+',
  ),
]);

export const CreateAclsResponse = message('CreateAclsResponse', 30, '0-3', '2+', [
  f('ThrottleTimeMs', 'int32', '0+'),
  f('Results', array([f('ErrorCode', 'int16', '0+'), f('ErrorMessage', 'string', '0+', { nullable: '0+' })]), '0+'),
]);

export const DeleteAclsRequest = message('DeleteAclsRequest', 31, '0-3', '2+', [
  f('Filters', array(filterFields), '0+'),
]);

export const DeleteAclsResponse = message('DeleteAclsResponse', 31, '0-3', '2+', [
  f('ThrottleTimeMs', 'int32', '0+'),
  f(
    'FilterResults',
    array([
      f('ErrorCode', 'int16', '0+'),
      f('ErrorMessage', 'string', '0+', { nullable: '0+' }),
      f(
        'MatchingAcls',
        array([
          f('ErrorCode', 'int16', '0+'),
          f('ErrorMessage', 'string', '0+', { nullable: '0+' }),
          f('ResourceType', 'int8', '0+'),
          f('ResourceName', 'string', '0+'),
          f('PatternType', 'int8', '1+', { default: LITERAL }),
          f('Principal', 'string', '0+'),
          f('Host', 'string', '0+'),
          f('Operation', 'int8', '0+'),
          f('PermissionType', 'int8', '0+'),
        ]),
        '0+',
      ),
    ]),
    '0+',
  ),
]);
