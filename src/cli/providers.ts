// `vpm-gateway providers <command>`: the VPM joining process as the agency runs it (src/onboarding).
import { group } from './command.ts';

export const runProviders = group({
  name: 'providers',
  help: [
    ['list', "every provider's stage and who it is offered to"],
    ['show ID', "one provider's record and its history"],
    ['check ID', 'the joining conditions its current and next stage need'],
    ['probe ID', 'the VPM security levels checked against its endpoints; stored with its record'],
    ['test-login ID', 'log in once through the gateway at a provider in testing; report stored and audited'],
    [
      'scaffold --kind KIND NAME',
      'custom: a new adapter kind (schema, adapter, test peer, conformance\ntest); a kind with an entry kit (scaffold --help lists them): a new provider',
    ],
    ['transition ID STAGE --reason TEXT', 'move it in the joining process (refused, suspended, resume too)'],
  ],
  commands: {
    list: async () => (await import('./providers-view.ts')).list,
    show: async () => (await import('./providers-view.ts')).show,
    check: async () => (await import('./providers-view.ts')).check,
    probe: async () => (await import('./providers-probe.ts')).probe,
    'test-login': async () => (await import('./providers-test-login.ts')).testLogin,
    scaffold: async () => (await import('./providers-scaffold.ts')).scaffold,
    transition: async () => (await import('./providers-transition.ts')).transitionCommand,
  },
});
