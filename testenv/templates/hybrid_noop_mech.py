"""ML2 mechanism driver that binds every port on every host, with no dataplane.

Used by testenv/openstack.sh so that Nova (fake virt driver) can boot servers on Neutron
networks without any L2 agent. Ports bind with vif_type 'other' and go ACTIVE
immediately. Registered under the entry point name 'hybrid_noop'.
"""
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api


class NoopMechanismDriver(api.MechanismDriver):

    def initialize(self):
        pass

    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OTHER,
                {portbindings.CAP_PORT_FILTER: False},
                status=constants.PORT_STATUS_ACTIVE)
            return
