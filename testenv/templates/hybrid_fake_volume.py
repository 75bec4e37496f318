"""Cinder volume driver for testenv/openstack.sh: Cinder's own fake driver
(cinder.tests.fake_driver.FakeLoggingVolumeDriver: no storage, every call only
logged) plus the calls it leaves to the LVM code underneath, which would fail
without a real volume group.

- extend_volume: the fake LVM has no extend_volume (volume goes error_extending)
- revert_to_snapshot: would call vgchange/lvconvert
- copy_image_to_volume: would write the image to /dev/mapper/...; image bytes
  are ignored, so "create volume from image" works
- copy_volume_to_image: would read /dev/mapper/...; uploads an empty payload
  instead, so "upload volume to image" ends with an active (0-byte) image
"""
import io

from cinder.tests import fake_driver
from cinder.volume import volume_utils


class HybridFakeVolumeDriver(fake_driver.FakeLoggingVolumeDriver):

    @volume_utils.trace_method
    def extend_volume(self, volume, new_size):
        pass

    @volume_utils.trace_method
    def revert_to_snapshot(self, context, volume, snapshot):
        pass

    @volume_utils.trace_method
    def copy_image_to_volume(self, context, volume, image_service, image_id):
        pass

    @volume_utils.trace_method
    def copy_volume_to_image(self, context, volume, image_service, image_meta):
        image_service.update(context, image_meta['id'], {}, io.BytesIO(b''))
