// One provider's record in the VPM joining process: who it is (a credit institution or another eID
// provider), where its licence or register entry was checked and by whom, its free-of-charge declaration,
// its contacts, the adapter entry it belongs to, and every stage it went through with who moved it, when,
// why and on what evidence. The current stage is the last history entry's, so the two cannot disagree.
import { z } from 'zod';
import { ONBOARDING_STAGES, type OnboardingStage } from '../config/provider-base.ts';

/** The usual refusal reasons of the VPM cooperation procedure, in the joining conditions' order. */
export const REFUSAL_REASONS = [
  'not_licensed',
  'not_qualified_eid_provider',
  'security_levels_not_met',
  'not_free_of_charge',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export const RECORD_STAGES = [...ONBOARDING_STAGES, 'refused', 'suspended'] as const;
export type RecordStage = (typeof RECORD_STAGES)[number];

const providerId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,29}$/, 'must be 1-30 lower-case letters, digits or hyphens');
const person = z.string().min(1).max(200);

export const historyEntrySchema = z.strictObject({
  stage: z.enum(RECORD_STAGES),
  at: z.iso.datetime({ offset: true }),
  by: person,
  reason: z.string().min(1).max(2000),
  /** documents, tickets or report digests backing the decision */
  evidence: z.array(z.string().min(1).max(500)).default([]),
  /** refused: one or more of the usual reasons */
  refusal_reasons: z.array(z.enum(REFUSAL_REASONS)).min(1).optional(),
  /** refused for a reason outside the usual four, stated */
  refusal_other: z.string().min(1).max(2000).optional(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** A stored security probe or test-login report: when, whether it passed, and the report itself. */
const reportSchema = z.strictObject({
  at: z.iso.datetime({ offset: true }),
  ok: z.boolean(),
  report: z.record(z.string(), z.unknown()),
});
export type StoredReport = z.infer<typeof reportSchema>;

export const registryRecordSchema = z
  .strictObject({
    id: providerId,
    /** the `providers[]` entry (adapter) this record governs; needed from the testing stage on */
    adapter: providerId.optional(),
    name: z.string().min(1).max(200),
    legal_kind: z.enum(['credit_institution', 'eid_provider']),
    /** credit institution licence (Latvijas Banka, formerly FKTK) or the Ministry of Defence eID register */
    licence: z
      .strictObject({
        register: z.enum(['credit_institutions', 'eid_providers']),
        entry: z.string().min(1).max(200),
        /** eID providers: qualified enhanced-security eID provider */
        qualified: z.boolean().optional(),
        valid_until: z.iso.date().optional(),
        checked_at: z.iso.date(),
        checked_by: person,
      })
      .optional(),
    free_of_charge: z.strictObject({ declared: z.boolean(), evidence: z.string().min(1).max(500).optional() }),
    two_factor: z.boolean(),
    contacts: z
      .array(
        z.strictObject({
          name: person,
          role: z.string().min(1).max(100),
          email: z.email(),
          phone: z.string().max(40).optional(),
        }),
      )
      .min(1),
    /** grows by one with every change, so instances sharing a store keep the newest */
    revision: z.number().int().min(1),
    history: z.array(historyEntrySchema).min(1),
    decisions: z
      .array(
        z.strictObject({
          at: z.iso.datetime({ offset: true }),
          by: person,
          decision: z.string().min(1).max(2000),
          reference: z.string().max(200).optional(),
        }),
      )
      .default([]),
    probe: reportSchema.optional(),
    test_login: reportSchema.optional(),
  })
  .superRefine((record, ctx) => {
    const expected = record.legal_kind === 'credit_institution' ? 'credit_institutions' : 'eid_providers';
    if (record.licence && record.licence.register !== expected)
      ctx.addIssue({
        code: 'custom',
        path: ['licence', 'register'],
        message: `must be ${expected} for a ${record.legal_kind}`,
      });
    record.history.forEach((entry, i) => {
      if (entry.stage === 'refused' && !entry.refusal_reasons && !entry.refusal_other)
        ctx.addIssue({
          code: 'custom',
          path: ['history', i],
          message: 'a refusal needs refusal_reasons or refusal_other',
        });
      if (entry.stage !== 'refused' && (entry.refusal_reasons || entry.refusal_other))
        ctx.addIssue({
          code: 'custom',
          path: ['history', i],
          message: 'refusal reasons belong to a refused entry only',
        });
    });
  });

export type RegistryRecord = z.infer<typeof registryRecordSchema>;

/** A record's legal kind and licence: a bank's credit institution licence, or another eID provider's entry
 * in the register of eID providers (qualified or not). */
export function legalStanding(
  bank: boolean,
  {
    qualified,
    ...licence
  }: { entry: string; qualified: boolean; valid_until?: string; checked_at: string; checked_by: string },
): Pick<RegistryRecord, 'legal_kind' | 'licence'> {
  return {
    legal_kind: bank ? 'credit_institution' : 'eid_provider',
    licence: { register: bank ? 'credit_institutions' : 'eid_providers', ...licence, ...(bank ? {} : { qualified }) },
  };
}

export function currentStage(record: Pick<RegistryRecord, 'history'>): RecordStage {
  return record.history.at(-1)!.stage;
}

/** The stage a suspended provider returns to when resumed (the last one before the suspension). */
export function stageBeforeSuspension(record: Pick<RegistryRecord, 'history'>): OnboardingStage | undefined {
  for (let i = record.history.length - 1; i >= 0; i--) {
    const stage = record.history[i]!.stage;
    if (stage !== 'suspended' && stage !== 'refused') return stage;
  }
  return undefined;
}
